"""Regenerate the README's settings table from `tap-leads --about --format markdown`.

Run with --check to fail when the README is out of date.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table() -> str:
    about = subprocess.run(
        [sys.executable, "-m", "tap_leads", "--about", "--format", "markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    table = re.search(r"^## Settings\n\n(.*?)\n\n", about, re.S | re.M)
    if table is None:
        raise SystemExit("tap-leads --about printed no settings table")
    return table.group(1).strip()


def render(readme: str, table: str) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table}\n{END}{after}"


def main() -> int:
    current = README.read_text()
    wanted = render(current, settings_table())
    if "--check" in sys.argv:
        if current != wanted:
            print("README.md settings table is stale: run scripts/readme_settings.py")
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
