import subprocess
import sys

from tests.conftest import REPO


def test_readme_settings_table_matches_about_output():
    result = subprocess.run(
        [sys.executable, "scripts/readme_settings.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
