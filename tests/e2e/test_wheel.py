"""The package on its own: the wheel, installed into a fresh virtualenv, syncs the emulator.

The wheel is built from the repository, installed with the pinned constraints, and run
from a directory outside the repository, so nothing of the source tree can stand in for
a file the wheel lacks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, STREAMS, parse_messages

pytestmark = pytest.mark.e2e

BUILD_TIMEOUT = 600


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
        cwd=cwd,
        env=env,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin directory of a new virtualenv holding only the wheel and its dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    # Nothing from this test run's own virtualenv or source tree may leak into the new one.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(root), str(REPO)],
        cwd=root,
        env=env,
    )
    (wheel,) = root.glob("tap_leads-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tap_leads/py.typed" in names
    assert {f"tap_leads/schemas/{stream}.json" for stream in STREAMS.values()} <= set(names)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names
    assert not [name for name in names if name.startswith(("tests/", "emulator/"))]

    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=root, env=env)
    run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(REPO / "requirements" / "constraints.txt"),
            str(wheel),
        ],
        cwd=root,
        env=env,
    )
    return venv / "bin"


def test_installed_wheel_describes_itself(installed, tmp_path):
    result = run([str(installed / "tap-leads"), "--about", "--format", "json"], tmp_path, {})
    about = json.loads(result.stdout)
    assert about["name"] == "tap-leads"
    assert {"batch", "catalog", "discover", "state"} <= set(about["capabilities"])
    assert {"start_date", "teli", "batch_config"} <= set(about["settings"]["properties"])

    text = run([str(installed / "tap-leads"), "--about"], tmp_path, {})
    assert text.stdout.startswith("Name: tap-leads")

    located = run(
        [str(installed / "python"), "-c", "import tap_leads; print(tap_leads.__file__)"],
        tmp_path,
        {},
    )
    assert Path(located.stdout.strip()).is_relative_to(installed.parent)


def test_installed_wheel_syncs_every_lead(installed, tmp_path, emulator):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(emulator.tap_config()))

    result = run([str(installed / "tap-leads"), "--config", str(config)], tmp_path, {})

    messages = parse_messages(result.stdout)
    counts = {
        stream: sum(1 for m in messages if m["type"] == "RECORD" and m["stream"] == stream)
        for stream in STREAMS.values()
    }
    assert counts == {STREAMS[p]: len(emulator.leads(p)) for p in STREAMS}
    assert all(count > 100 for count in counts.values())
    assert messages[-1]["type"] == "STATE"
