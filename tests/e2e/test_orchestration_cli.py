"""`python -m orchestration` and the code location without a pipeline run: a bad setting
fails in one line, and Dagster loads the definitions as it would in production."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import MELTANO, REPO, clean_environ
from tests.e2e.orchestration_support import (  # noqa: F401 - dagster_installed: the fixture
    DAGSTER_PYTHON,
    dagster_installed,
    run,
)

# .venv-dagster, made on demand, for every test here.
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("dagster_installed")]


def test_bad_settings_fail_in_one_line_naming_the_setting(tmp_path):
    env = {**clean_environ(), "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(tmp_path / "home")}
    command = [str(DAGSTER_PYTHON), "-m", "orchestration"]
    shards = run([*command, "run"], {**env, "LEADS_ORCH_SHARDS": "four"})
    assert shards.returncode == 1
    assert shards.stderr.strip() == (
        "orchestration: LEADS_ORCH_SHARDS must be a whole number of 1 or more, got 'four'"
    )
    retry = run([*command, "retry", "no-such-run"], env)
    assert retry.returncode == 1
    assert retry.stderr.strip().splitlines()[-1] == (
        f"orchestration: no run no-such-run in DAGSTER_HOME={tmp_path / 'home'}"
    )
    # A project that is not there fails the first step, before any shard starts.
    missing = tmp_path / "no-project"
    project = run(
        [*command, "run", "--shards", "2"],
        {**env, "LEADS_ORCH_PROJECT": str(missing), "LEADS_ORCH_MELTANO": str(MELTANO)},
    )
    assert project.returncode == 1
    outcome = json.loads(project.stdout.strip().splitlines()[-1])
    assert outcome["failed"] == ["merge_shard_states"]
    message = f"no meltano.yml in {missing}: set LEADS_ORCH_PROJECT to a Meltano project"
    assert message in project.stderr
    assert "run_shard" not in project.stderr


def test_the_code_location_loads_as_dagster_loads_it(tmp_path):
    env = {**clean_environ(), "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(tmp_path)}
    dagster = str(DAGSTER_PYTHON.with_name("dagster"))
    done = run([dagster, "definitions", "validate", "-m", "orchestration.definitions"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation." in done.stderr + done.stdout
