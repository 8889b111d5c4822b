"""Regenerate the README's settings tables from `tap-leads --about --format markdown`.

The about output has one table; it is split in two: the tap's own settings (docs/settings.md),
and the settings every Singer SDK tap has (stream maps, flattening, batches, …;
docs/sdk-settings.md). A setting that every provider has, worded alike but for the provider's
name, is one `<provider>.…` row. README.md holds a compact form of the tap's table: one row per
provider block, naming the block's own settings.

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
SETTINGS_DOC = ROOT / "docs" / "settings.md"
SDK_DOC = ROOT / "docs" / "sdk-settings.md"
#: "<provider>" stands for a provider's key, "<Provider>" for its name.
KEY, LABEL = "<provider>", "<Provider>"
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
    return "\n".join(header + collapse(ours)), "\n".join(header + sdk)


def compact(table: str) -> str:
    """One row per provider block, its own settings named in the description."""
    lines = table.splitlines()
    header, rows = lines[:2], lines[2:]
    names: dict[str, list[str]] = {
        cells[0]: []
        for cells in map(_cells, rows)
        if "." not in cells[0] and cells[3].endswith(f"extract {cells[0]}_leads.")
    }
    kept = []
    for row in rows:
        name = _cells(row)[0]
        if "." in name and name.split(".", 1)[0] in names:
            names[name.split(".", 1)[0]].append(f"`{name.split('.', 1)[1]}`")
        else:
            kept.append(row)
    out = []
    for row in kept:
        cells = _cells(row)
        if cells[0] in names:
            cells[3] += f" Settings: {', '.join(names[cells[0]])}."
        out.append(f"| {' | '.join(cells)} |" if cells[0] in names else row)
    return "\n".join(header + out)


def collapse(rows: list[str]) -> list[str]:
    """One `<provider>.…` row for a setting every provider has, worded alike."""
    labels = {}
    for row in rows:
        name, description = _cells(row)[0], _cells(row)[3]
        if "." not in name and description.endswith(f"extract {name}_leads."):
            labels[name] = description.split(":", 1)[0]
    shapes: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        provider = _top_level(row)
        if provider in labels:
            shapes.setdefault(_generic(row, provider, labels[provider]), []).append(index)
    common = {shape: found for shape, found in shapes.items() if len(found) == len(labels) > 1}
    dropped = {index for found in common.values() for index in found}
    kept = [row for index, row in enumerate(rows) if index not in dropped]
    last = max((i for i, row in enumerate(kept) if _top_level(row) in labels), default=-1)
    return kept[: last + 1] + list(common) + kept[last + 1 :]


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split(" | ")]


def _generic(row: str, provider: str, label: str) -> str:
    cells = _cells(row)
    name = KEY + cells[0][len(provider) :]
    text = " | ".join(cells[1:]).replace(label, LABEL)
    text = re.sub(rf"\b{re.escape(provider)}\b", KEY, text)
    return f"| {name} | {text} |"


def _top_level(row: str) -> str:
    return row.strip("| ").split(" |", 1)[0].split(".", 1)[0]


def render(text: str, markers: tuple[str, str], table: str) -> str:
    start, end = markers
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{table}\n{end}{after}"


def main() -> int:
    tap_table, sdk_table = settings_tables()
    stale = []
    for path, markers, table in (
        (README, TAP_TABLE, compact(tap_table)),
        (SETTINGS_DOC, TAP_TABLE, tap_table),
        (SDK_DOC, SDK_TABLE, sdk_table),
    ):
        current = path.read_text(encoding="utf-8")
        wanted = render(current, markers, table)
        if current == wanted:
            continue
        stale.append(path.relative_to(ROOT).as_posix())
        if "--check" not in sys.argv:
            path.write_text(wanted, encoding="utf-8")
    if stale and "--check" in sys.argv:
        print(f"Settings tables are stale in {', '.join(stale)}: run scripts/readme_settings.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
