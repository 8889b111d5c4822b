"""Regenerate the README's settings tables from `tap-leads --about --format markdown`.

The about output has one table; the README splits it in two: the tap's own settings, and
the settings every Singer SDK tap has (stream maps, flattening, batches, …).

Run with --check to fail when the README is out of date.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The tap's own settings: its schema before the SDK adds the settings every SDK tap has.
from tap_leads.config.schema import CONFIG_SCHEMA  # noqa: E402

README = ROOT / "README.md"
TAP_TABLE = ("<!-- settings:start -->", "<!-- settings:end -->")
SDK_TABLE = ("<!-- sdk-settings:start -->", "<!-- sdk-settings:end -->")


def _run(*args: str) -> str:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, timeout=60, cwd=ROOT
    ).stdout


def settings_tables() -> tuple[str, str]:
    """The tap's settings table and the SDK's, each with the about output's header."""
    about = _run("-m", "tap_leads", "--about", "--format", "markdown")
    table = re.search(r"^## Settings\n\n(.*?)\n\n", about, re.S | re.M)
    if table is None:
        raise SystemExit("tap-leads --about printed no settings table")
    lines = table.group(1).strip().splitlines()
    header, rows = lines[:2], lines[2:]
    own = set(CONFIG_SCHEMA["properties"])
    ours = [row for row in rows if _top_level(row) in own]
    sdk = [row for row in rows if _top_level(row) not in own]
    return "\n".join(header + ours), "\n".join(header + sdk)


def _top_level(row: str) -> str:
    return row.strip("| ").split(" |", 1)[0].split(".", 1)[0]


def render(readme: str, tap_table: str, sdk_table: str) -> str:
    for (start, end), table in ((TAP_TABLE, tap_table), (SDK_TABLE, sdk_table)):
        before, rest = readme.split(start, 1)
        _, after = rest.split(end, 1)
        readme = f"{before}{start}\n{table}\n{end}{after}"
    return readme


def main() -> int:
    current = README.read_text(encoding="utf-8")
    wanted = render(current, *settings_tables())
    if "--check" in sys.argv:
        if current != wanted:
            print("README.md settings tables are stale: run scripts/readme_settings.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
