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


README = (REPO / "README.md").read_text(encoding="utf-8")
SETTINGS = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
PROVIDERS = ("teli", "nexus_erp", "flextell", "sela", "autocalls")


def table(text: str) -> list[str]:
    body = text.split("<!-- settings:start -->", 1)[1].split("<!-- settings:end -->", 1)[0]
    return [line.split(" | ", 1)[0].strip("| ") for line in body.strip().splitlines()[2:]]


def test_readme_is_for_users_and_short():
    assert len(README.splitlines()) <= 250
    headings = [line[3:] for line in README.splitlines() if line.startswith("## ")]
    assert headings == [
        "Quickstart",
        "Streams",
        "Minimal config",
        "Settings",
        "Meltano",
        "Plain pipe",
        "Incremental replication and deletes",
        "Reliability",
        "Troubleshooting",
        "Scaling out",
    ]
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert "\nscripts/demo " in quickstart
    assert "\nscripts/test " in quickstart


def test_readme_settings_table_has_one_row_per_provider_block_naming_its_settings():
    names = table(README)
    assert [n for n in names if "." in n and not n.startswith("<provider>.")] == []
    assert [n for n in names if n in PROVIDERS] == list(PROVIDERS)
    full = table(SETTINGS)
    for provider in PROVIDERS:
        [row] = [line for line in README.splitlines() if line.startswith(f"| {provider} |")]
        own = [n.split(".", 1)[1] for n in full if n.startswith(f"{provider}.")]
        assert own
        assert row.endswith(f"Settings: {', '.join(f'`{n}`' for n in own)}. |")
    assert {"teli.api_key", "flextell.refresh_token", "shard", "<provider>.accounts"} <= set(full)
