#!/usr/bin/env python3
"""Meltano setting definitions of tap-leads, derived from `tap-leads --about --format json`.

Rewrites the capabilities, settings and settings_group_validation of the tap-leads
extractor in meltano.yml, and the whole Meltano Hub definition plugin/tap-leads.yml,
so that neither can drift from the tap.

    python scripts/gen_plugin_settings.py          # rewrite both files
    python scripts/gen_plugin_settings.py --check  # exit 1 if either is out of date

Run it with the tap's virtualenv (it calls the tap-leads next to the running Python).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml
from plugin_settings import settings, settings_groups

ROOT = Path(__file__).resolve().parent.parent
MELTANO_YML = ROOT / "meltano.yml"
HUB_YML = ROOT / "plugin" / "tap-leads.yml"

# Capabilities Meltano acts on; the tap's others (activate-version, structured-logging)
# need no declaration.
MELTANO_CAPABILITIES = (
    "about",
    "batch",
    "catalog",
    "discover",
    "schema-flattening",
    "state",
    "stream-maps",
)
HUB_HEADER = {
    "name": "tap-leads",
    "namespace": "tap_leads",
    "variant": "tap-leads",
    "label": "Leads (Teli, Nexus ERP, Flextell, Sela, Autocalls)",
    "description": "Leads of the Teli, Nexus ERP, Flextell, Sela and Autocalls APIs",
    "pip_url": "git+https://github.com/tap-leads/tap-leads.git",
    "executable": "tap-leads",
    "repo": "https://github.com/tap-leads/tap-leads",
    "docs": "https://github.com/tap-leads/tap-leads#readme",
    "keywords": ["api", "meltano_sdk", "crm", "leads"],
    "maintenance_status": "active",
}


def about(executable: str | None = None) -> dict[str, t.Any]:
    """The tap's --about document."""
    command = executable or _tap_executable()
    completed = subprocess.run(
        [command, "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(completed.stdout)


def _tap_executable() -> str:
    beside = Path(sys.executable).with_name("tap-leads")
    if beside.exists():
        return str(beside)
    found = shutil.which("tap-leads")
    if found is None:
        raise SystemExit("tap-leads is not installed: run `pip install -e .` first.")
    return found


def capabilities(about_doc: dict[str, t.Any]) -> list[str]:
    declared = set(about_doc["capabilities"])
    return [name for name in MELTANO_CAPABILITIES if name in declared]


def _dump(data: t.Any, indent: int = 0) -> str:
    # No line wrapping: Meltano rewrites meltano.yml unwrapped, so both agree line by line.
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 16)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def generated_keys(about_doc: dict[str, t.Any]) -> dict[str, t.Any]:
    """The extractor keys this script owns, in the order Meltano writes them."""
    return {
        "capabilities": capabilities(about_doc),
        "settings_group_validation": settings_groups(about_doc),
        "settings": settings(about_doc),
    }


def _extractor(text: str) -> dict[str, t.Any]:
    project = yaml.safe_load(text)
    for plugin in project.get("plugins", {}).get("extractors", []):
        if plugin.get("name") == "tap-leads":
            return plugin
    raise SystemExit(f"{MELTANO_YML} has no extractor named tap-leads")


def meltano_yml(about_doc: dict[str, t.Any], current: str) -> str:
    """meltano.yml with the extractor's generated keys replaced; other lines are kept as is."""
    block = generated_keys(about_doc)
    lines = current.splitlines(True)
    item = re.compile(r"\s*- name: tap-leads\s*")
    start = next(i for i, line in enumerate(lines) if item.fullmatch(line))
    indent = lines[start].index("-") + 2
    end = start + 1
    # The item runs until a line indented less than its keys (the next plugin or section).
    while end < len(lines) and (
        not lines[end].strip()
        or lines[end].lstrip().startswith("#")
        or len(lines[end]) - len(lines[end].lstrip()) >= indent
    ):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    key_line = re.compile(rf"^ {{{indent}}}([A-Za-z_][\w-]*):")
    keys = [i for i in range(start + 1, end) if key_line.match(lines[i])]
    spans = [(i, next((k for k in keys if k > i), end)) for i in keys]
    owned = [(a, b) for a, b in spans if key_line.match(lines[a]).group(1) in block]
    insert = owned[0][0] if owned else end
    kept = [i for i in range(start + 1, end) if not any(a <= i < b for a, b in owned)]
    before = [lines[i] for i in kept if i < insert]
    after = [lines[i] for i in kept if i >= insert]
    return "".join([*lines[: start + 1], *before, _dump(block, indent), *after, *lines[end:]])


def hub_document(about_doc: dict[str, t.Any]) -> dict[str, t.Any]:
    return {**HUB_HEADER, **generated_keys(about_doc)}


def hub_yml(about_doc: dict[str, t.Any]) -> str:
    header = (
        "# Meltano Hub definition of tap-leads.\n"
        "# Generated from `tap-leads --about` by scripts/gen_plugin_settings.py: edit that.\n"
    )
    return header + _dump(hub_document(about_doc))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on drift")
    args = parser.parse_args(argv)
    about_doc = about()
    current = MELTANO_YML.read_text(encoding="utf-8")
    hub = HUB_YML.read_text(encoding="utf-8") if HUB_YML.exists() else ""
    if args.check:
        # Compared as data, so that Meltano's own rewrites of meltano.yml are no drift.
        block = generated_keys(about_doc)
        stale = [
            path
            for path, is_stale in (
                (MELTANO_YML, any(_extractor(current).get(k) != v for k, v in block.items())),
                (HUB_YML, yaml.safe_load(hub or "{}") != hub_document(about_doc)),
            )
            if is_stale
        ]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run scripts/gen_plugin_settings.py")
        return 1 if stale else 0
    for path, old, new in (
        (MELTANO_YML, current, meltano_yml(about_doc, current)),
        (HUB_YML, hub, hub_yml(about_doc)),
    ):
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
