"""Bad input to the `tap-leads` command: one specific last line, exit 1, no traceback.

Each test runs the installed console script, as a user or an orchestrator would, and reads
only what they read: the exit status and the last line on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TAP = Path(sys.executable).with_name("tap-leads")
TIMEOUT = 120


@dataclass
class Failed:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """The message of the last stderr line, without the log line's time and level."""
        lines = self.stderr.strip().splitlines()
        assert lines, "nothing on stderr"
        _time, level, _logger, message = lines[-1].split(" | ", 3)
        assert level.strip() == "ERROR", lines[-1]
        return message


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Failed:
    result = subprocess.run(
        [str(TAP), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    return Failed(result.returncode, result.stdout, result.stderr)


def assert_clean_failure(result: Failed, last_line: str) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.last_line == last_line, result.stderr
    assert result.returncode == 1, result.stderr
    assert "Config validation failed" not in result.stderr
    assert '"type":' not in result.stdout, "a Singer message was written"


def write_config(path: Path, config: dict) -> Path:
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_config_file_that_is_not_json(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{\n  "teli": {\n    "api_key": secret\n  }\n}\n', encoding="utf-8")

    result = run_cli("--config", str(config), cwd=tmp_path)

    assert_clean_failure(
        result, f"Config file {config} is not valid JSON: line 3, column 16: Expecting value."
    )


def test_config_file_that_does_not_exist(tmp_path):
    result = run_cli("--config", "missing/config.json", cwd=tmp_path)

    assert_clean_failure(result, "Config file missing/config.json does not exist.")


def test_config_file_that_is_not_an_object(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('[{"teli": {}}]', encoding="utf-8")

    result = run_cli("--config", str(config), cwd=tmp_path)

    assert_clean_failure(
        result, f"Config file {config} holds a JSON array, not an object of settings."
    )


def test_missing_file_in_discovery_mode(tmp_path):
    result = run_cli("--config", "nowhere.json", "--discover", cwd=tmp_path)

    assert_clean_failure(result, "Config file nowhere.json does not exist.")


def test_typo_in_a_top_level_setting_is_rejected_before_any_request(tmp_path, emulator):
    config = write_config(
        tmp_path / "config.json",
        emulator.tap_config(providers=["teli"], strat_date="2025-01-01T00:00:00Z"),
    )

    result = run_cli("--config", str(config), cwd=tmp_path)

    assert_clean_failure(result, "strat_date is not a tap-leads setting. Did you mean start_date?")
    assert emulator.requests == []


def test_unknown_top_level_setting_lists_the_known_ones(tmp_path, emulator):
    config = write_config(
        tmp_path / "config.json", emulator.tap_config(providers=["sela"], zzz_unrelated=1)
    )

    result = run_cli("--config", str(config), cwd=tmp_path)

    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert result.last_line.startswith("zzz_unrelated is not a tap-leads setting. Known settings: ")
    known = result.last_line.split("Known settings: ", 1)[1].rstrip(".").split(", ")
    assert {"start_date", "teli", "stream_maps", "batch_config", "flattening_enabled"} <= set(known)
    assert emulator.requests == []


def test_every_setting_the_tap_declares_is_accepted(tmp_path, emulator):
    """The SDK's own settings, and shard, are top-level names too: none reads as a typo."""
    about = subprocess.run(
        [str(TAP), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
        cwd=tmp_path,
    )
    declared = set(json.loads(about.stdout)["settings"]["properties"])
    sdk_values = {
        "stream_maps": {},
        "stream_map_config": {},
        "faker_config": {},
        "flattening_enabled": False,
        "flattening_max_depth": 1,
        "flattening_max_key_length": 63,
        "flattening_separator": "__",
        "batch_config": {"encoding": {"format": "jsonl", "compression": "gzip"}},
    }
    present = {name: value for name, value in sdk_values.items() if name in declared}
    assert set(present) >= {"stream_maps", "flattening_enabled", "batch_config"}
    if "shard" in declared:
        present["shard"] = "0/1"
    config = write_config(
        tmp_path / "config.json",
        emulator.tap_config(providers=["teli"], start_date="2025-01-01T00:00:00Z", **present),
    )

    result = run_cli("--config", str(config), "--discover", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    streams = sorted(s["tap_stream_id"] for s in json.loads(result.stdout)["streams"])
    assert streams == ["deleted_leads", "teli_leads"]


def test_config_errors_end_with_the_specific_problem(tmp_path, emulator):
    config = emulator.tap_config(providers=["teli", "sela"], teli={"page_size": 5000})
    del config["sela"]["api_key"]
    path = write_config(tmp_path / "config.json", config)

    result = run_cli("--config", str(path), cwd=tmp_path)

    assert_clean_failure(
        result,
        'sela.api_key is missing. Set it: Sela API key, sent as "Authorization: Token <key>".',
    )
    assert "teli.page_size is 5000: Teli takes 1 to 200 leads per page." in result.stderr
    assert emulator.requests == []


def test_schema_errors_name_the_setting(tmp_path, emulator):
    path = write_config(
        tmp_path / "config.json", emulator.tap_config(providers=["teli"], teli={"user_id": 5})
    )

    result = run_cli("--config", str(path), cwd=tmp_path)

    assert_clean_failure(result, "teli.user_id: 5 is not of type 'string', 'null'")
    assert emulator.requests == []


@pytest.fixture
def without_pyarrow(tmp_path) -> dict[str, str]:
    """An environment in which `import pyarrow` fails, as where the extra is not installed."""
    shadow = tmp_path / "no-pyarrow" / "pyarrow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pyarrow'\", name='pyarrow')\n"
    )
    return {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(shadow.parent), os.environ.get("PYTHONPATH")])
        )
    }


def test_parquet_batches_without_pyarrow(tmp_path, emulator, without_pyarrow):
    path = write_config(
        tmp_path / "config.json",
        emulator.tap_config(
            providers=["teli"],
            batch_config={
                "encoding": {"format": "parquet", "compression": "gzip"},
                "storage": {"root": f"file://{tmp_path / 'batches'}", "prefix": "leads-"},
            },
        ),
    )

    result = run_cli("--config", str(path), cwd=tmp_path, env=without_pyarrow)

    assert_clean_failure(
        result,
        "batch_config.encoding.format is parquet, which needs pyarrow: "
        "install the tap with its parquet extra, pip install '/path/to/tap-leads[parquet]'.",
    )
    assert emulator.requests == []
    assert not (tmp_path / "batches").exists()


def test_uncompressed_json_lines_batches_are_refused(tmp_path, emulator):
    """singer-sdk 0.54 gzips JSON Lines batch files whatever the config says; a target told
    they are uncompressed could not read them."""
    path = write_config(
        tmp_path / "config.json",
        emulator.tap_config(
            providers=["sela"],
            batch_config={
                "encoding": {"format": "jsonl", "compression": "none"},
                "storage": {"root": (tmp_path / "batches").as_uri()},
            },
        ),
    )

    result = run_cli("--config", str(path), cwd=tmp_path)

    assert_clean_failure(
        result,
        "batch_config.encoding.compression is 'none': JSON Lines batch files are always "
        "gzip-compressed, so set it to gzip.",
    )
    assert emulator.requests == []


def test_state_file_that_is_not_json(tmp_path, emulator):
    config = write_config(tmp_path / "config.json", emulator.tap_config(providers=["teli"]))
    state = tmp_path / "state.json"
    state.write_text('{"bookmarks": {"teli_leads": }}', encoding="utf-8")

    result = run_cli("--config", str(config), "--state", str(state), cwd=tmp_path)

    assert_clean_failure(
        result, f"State file {state} is not valid JSON: line 1, column 30: Expecting value."
    )
    assert emulator.requests == []


def test_catalog_file_that_is_not_an_object(tmp_path, emulator):
    config = write_config(tmp_path / "config.json", emulator.tap_config(providers=["teli"]))
    catalog = tmp_path / "catalog.json"
    catalog.write_text('["teli_leads"]', encoding="utf-8")

    result = run_cli("--config", str(config), "--catalog", str(catalog), cwd=tmp_path)

    assert_clean_failure(
        result, f"Catalog file {catalog} holds a JSON array, not an object of streams."
    )
    assert emulator.requests == []


def test_config_error_in_test_mode(tmp_path, emulator):
    config = emulator.tap_config(providers=["autocalls"], autocalls={"date_from": "01/02/2025"})
    path = write_config(tmp_path / "config.json", config)

    result = run_cli("--config", str(path), "--test", cwd=tmp_path)

    assert_clean_failure(result, "autocalls.date_from is '01/02/2025': use the YYYY-MM-DD format.")
    assert emulator.requests == []
