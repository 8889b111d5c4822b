"""config/env.py on its own: which variable sets which setting, and how values are read."""

from __future__ import annotations

from tap_leads.config.env import merge_over, settings_from_env
from tap_leads.tap import TapLeads


def schema() -> dict:
    found = TapLeads.config_jsonschema
    TapLeads.append_builtin_config(found)
    return found


def test_nested_objects_take_flat_names_at_every_depth():
    config, problems = settings_from_env(
        schema(),
        {
            "TAP_LEADS_BATCH_CONFIG_ENCODING_FORMAT": "jsonl",
            "TAP_LEADS_BATCH_CONFIG_STORAGE_ROOT": "file:///tmp/b",
            "TAP_LEADS_FLEXTELL_INCLUDE_DELETED": "yes",
            "TAP_LEADS_FLEXTELL_TENANT_ID": "42",
            "TAP_LEADS_SELA_USER": "15",
            "TAP_LEADS_TELI_REQUESTS_PER_SECOND": "2.5",
        },
    )
    assert problems == []
    assert config == {
        "batch_config": {"encoding": {"format": "jsonl"}, "storage": {"root": "file:///tmp/b"}},
        # A setting that takes text too keeps the text: tenant ids, decimal rates.
        "flextell": {"include_deleted": True, "tenant_id": "42"},
        "sela": {"user": 15},
        "teli": {"requests_per_second": "2.5"},
    }


def test_flat_names_win_over_the_block_and_empty_variables_set_nothing():
    config, problems = settings_from_env(
        schema(),
        {
            "TAP_LEADS_TELI_PAGE_SIZE": "50",
            "TAP_LEADS_TELI": '{"api_key": "k", "page_size": 200}',
            "TAP_LEADS_TELI_USER_ID": "",
            "TAP_LEADS_MAX_TRIES": "3",
        },
    )
    assert problems == []
    assert config == {"teli": {"api_key": "k", "page_size": 50}, "max_tries": 3}


def test_other_variables_of_the_prefix_are_left_alone():
    config, problems = settings_from_env(
        schema(),
        {"TAP_LEADS_LOGLEVEL": "DEBUG", "TAP_LEADS__SELECT": "[]", "TAP_LEADS_TEST_RUN": "1"},
    )
    assert (config, problems) == ({}, [])


def test_the_environment_merges_over_the_files_block_by_block():
    files = {"teli": {"api_key": "k", "org_id": "o"}, "max_tries": 8}
    env = {"teli": {"page_size": 10}, "max_tries": 2}
    assert merge_over(files, env) == {
        "teli": {"api_key": "k", "org_id": "o", "page_size": 10},
        "max_tries": 2,
    }
