#!/usr/bin/env python3
"""Hand a tap-leads config (JSON) to Meltano as environment variables.

Meltano reads the setting teli.api_key from TAP_LEADS_TELI_API_KEY, and only for
settings that meltano.yml declares; a config value with no declared setting is an
error here rather than a value Meltano would silently drop.

    python scripts/meltano_env.py config.json   # prints `export NAME='value'` lines
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import typing as t
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "tap-leads"


def declared_settings(meltano_yml: Path = ROOT / "meltano.yml") -> list[str]:
    project = yaml.safe_load(meltano_yml.read_text(encoding="utf-8"))
    for plugin in project["plugins"]["extractors"]:
        if plugin["name"] == PLUGIN:
            return [setting["name"] for setting in plugin.get("settings", [])]
    raise LookupError(f"{meltano_yml} has no extractor named {PLUGIN}")


def env_name(setting: str, plugin: str = PLUGIN) -> str:
    """Meltano's variable name for a setting: TAP_LEADS_TELI_API_KEY for teli.api_key."""
    return "_".join(re.sub(r"[^A-Za-z0-9]", "_", part).upper() for part in (plugin, setting))


def _env_value(value: t.Any) -> str:
    if isinstance(value, str):
        return value
    # Meltano parses booleans, numbers and objects from their JSON spelling.
    return json.dumps(value)


def tap_env(config: dict[str, t.Any], settings: list[str] | None = None) -> dict[str, str]:
    """Environment variables carrying every value of `config`.

    Raises ValueError naming any value that no declared setting would carry.
    """
    names = set(settings if settings is not None else declared_settings())
    env: dict[str, str] = {}
    unknown: list[str] = []

    def walk(values: dict[str, t.Any], prefix: str) -> None:
        for key, value in values.items():
            name = f"{prefix}{key}"
            if name in names:
                if value is not None:
                    env[env_name(name)] = _env_value(value)
            elif isinstance(value, dict) and any(n.startswith(f"{name}.") for n in names):
                walk(value, f"{name}.")
            else:
                unknown.append(name)

    walk(config, "")
    if unknown:
        raise ValueError(
            f"meltano.yml declares no {PLUGIN} setting for: {', '.join(unknown)}; "
            "Meltano would drop these values."
        )
    return env


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    config = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    for name, value in sorted(tap_env(config).items()):
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
