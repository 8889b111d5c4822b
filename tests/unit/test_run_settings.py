"""RunSettings: the run's own settings read once, each default taken from the schema."""

from __future__ import annotations

import dataclasses

import pytest

from tap_leads.config.run_settings import DEFAULTS, RunSettings, setting
from tap_leads.config.schema import CONFIG_SCHEMA
from tap_leads.tap import TapLeads

TELI = {"teli": {"api_key": "k", "org_id": "o"}}
EXPECTED_DEFAULTS = {
    "lookback_window_seconds": 0,
    "max_concurrent_requests": 8,
    "max_rewalks": 1,
    "max_tries": 8,
    "request_timeout": 60,
    "max_retry_wait": 300,
    "progress_interval_seconds": 5,
    "backoff_base_seconds": 1.0,
    "detect_deletes": True,
    "max_deleted_fraction": 0.5,
    "tombstones": False,
}


def test_every_default_is_the_schema_one():
    defaults = RunSettings.from_config({})
    for field in dataclasses.fields(RunSettings):
        schema_default = CONFIG_SCHEMA["properties"][field.name]["default"]
        assert getattr(defaults, field.name) == schema_default == DEFAULTS[field.name]
    assert dataclasses.asdict(defaults) == EXPECTED_DEFAULTS


def test_an_explicit_null_is_the_default():
    nulls = dict.fromkeys(EXPECTED_DEFAULTS)
    assert RunSettings.from_config(nulls) == RunSettings.from_config({})
    assert setting({"max_tries": None}, "max_tries") == 8
    assert setting({}, "shard") is None


def test_values_are_read_as_their_kind():
    run = RunSettings.from_config(
        {"max_tries": "3", "backoff_base_seconds": "0.5", "detect_deletes": False}
    )
    assert run.detect_deletes is False
    assert run.max_tries == 3
    assert isinstance(run.max_tries, int)
    assert run.backoff_base_seconds == 0.5


def test_it_is_frozen():
    run = RunSettings.from_config({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.max_tries = 2  # type: ignore[misc]


def test_the_tap_reads_numbers_given_as_text_once():
    config = {**TELI, "teli": {**TELI["teli"], "page_size": "50"}, "max_tries": "4"}
    tap = TapLeads(config=config)
    assert tap.config["teli"]["page_size"] == 50
    assert tap.config["max_tries"] == 4
    assert tap.run_settings is tap.run_settings
    assert tap.run_settings.max_tries == 4
    stream = tap.streams["teli_leads"]
    assert stream.run is tap.run_settings
    assert stream.fetcher.policy.max_tries == 4
    assert stream.fetcher.endpoint.params["page_size"] == 50
    # The caller's dict is left as it was.
    assert config["teli"]["page_size"] == "50"
