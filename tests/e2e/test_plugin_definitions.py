"""meltano.yml and the Hub definition declare every setting of the tap, and Meltano passes them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.e2e.conftest import (
    MELTANO,
    REPO,
    TAP,
    meltano_env,
    meltano_environ,
    plugins_lock,
    run_logged,
)

pytestmark = pytest.mark.e2e

HUB_FILE = REPO / "plugin" / "tap-leads.yml"
# The setting names of the public contract, which users' projects depend on.
CONTRACT = {
    "start_date",
    *(f"teli.{n}" for n in ("api_key", "org_id", "api_url", "user_id", "group_id")),
    *(f"teli.{n}" for n in ("phone_number", "page_size")),
    *(f"nexus_erp.{n}" for n in ("api_key", "api_url", "status", "search", "assigned_to_id")),
    "nexus_erp.page_size",
    *(f"flextell.{n}" for n in ("access_token", "tenant_id", "api_url", "lead_status_id")),
    *(f"flextell.{n}" for n in ("lead_reference_source_id", "converted", "search", "page_size")),
    *(f"sela.{n}" for n in ("api_key", "api_url", "email", "external_id", "phone_number")),
    *(f"sela.{n}" for n in ("user", "page_size")),
    *(f"autocalls.{n}" for n in ("api_key", "api_url", "status", "campaign_id", "phone_number")),
    *(f"autocalls.{n}" for n in ("date_from", "date_to", "page_size")),
    "stream_maps",
    "stream_map_config",
    "faker_config.seed",
    "faker_config.locale",
    "flattening_enabled",
    "flattening_max_depth",
    "batch_config.encoding.format",
    "batch_config.encoding.compression",
    "batch_config.storage.root",
    "batch_config.storage.prefix",
    *(f"{p}.accounts" for p in ("teli", "nexus_erp", "flextell", "sela", "autocalls")),
    "shard",
}
PROVIDERS = ("teli", "nexus_erp", "flextell", "sela", "autocalls")
SECRETS = {
    "teli.api_key",
    "nexus_erp.api_key",
    "flextell.access_token",
    "flextell.client_secret",
    "flextell.refresh_token",
    "sela.api_key",
    "autocalls.api_key",
    # Each list holds its accounts' credentials.
    *(f"{p}.accounts" for p in PROVIDERS),
}


def about() -> dict:
    command = [str(TAP), "--about", "--format", "json"]
    return json.loads(subprocess.run(command, capture_output=True, check=True, timeout=120).stdout)


def leaf_settings(schema: dict, prefix: str = "") -> set[str]:
    """Dotted names of the config schema's leaves, objects of free-form keys counting as one."""
    names = set()
    for key, prop in schema["properties"].items():
        nested = prop.get("properties")
        if nested and not isinstance(prop.get("additionalProperties"), dict):
            names |= leaf_settings(prop, f"{prefix}{key}.")
        else:
            names.add(f"{prefix}{key}")
    return names


def extractor() -> dict:
    project = yaml.safe_load((REPO / "meltano.yml").read_text(encoding="utf-8"))
    return next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-leads")


def test_generated_files_match_the_tap():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_plugin_settings.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("definition", ["meltano.yml", "plugin/tap-leads.yml"])
def test_every_setting_is_declared(definition):
    plugin = extractor() if definition == "meltano.yml" else yaml.safe_load(HUB_FILE.read_text())
    settings = {s["name"]: s for s in plugin["settings"]}
    expected = leaf_settings(about()["settings"])
    assert set(settings) == expected
    assert expected >= CONTRACT
    assert {name for name, s in settings.items() if s.get("sensitive")} == SECRETS
    for setting in settings.values():
        assert setting["kind"], setting
        assert setting["label"], setting
        assert setting["description"], setting
        assert "value" not in setting, "a default would switch on every provider"
    # A block's own credentials; the accounts form is an alternative Meltano would list
    # as "Required" (it lists every group's settings so).
    assert plugin["settings_group_validation"] == [
        ["teli.api_key", "teli.org_id"],
        ["nexus_erp.api_key", "nexus_erp.api_url"],
        ["flextell.tenant_id"],
        ["sela.api_key"],
        ["autocalls.api_key"],
    ]
    for provider in PROVIDERS:
        assert settings[f"{provider}.accounts"]["kind"] == "array"
    assert settings["shard"]["kind"] == "string"
    assert set(plugin["capabilities"]) >= {
        "about",
        "batch",
        "catalog",
        "discover",
        "schema-flattening",
        "state",
        "stream-maps",
    }


def test_hub_definition_has_the_hub_fields():
    plugin = yaml.safe_load(HUB_FILE.read_text(encoding="utf-8"))
    for field in ("name", "namespace", "variant", "label", "description", "pip_url", "repo"):
        assert plugin[field], field
    assert plugin["name"] == "tap-leads"
    assert plugin["namespace"] == "tap_leads"
    assert plugin["docs"].startswith("https://")
    assert "meltano_sdk" in plugin["keywords"]
    assert plugin["maintenance_status"] == "active"


def _sample(setting: dict):
    kind = setting["kind"]
    if kind == "options":
        return setting["options"][-1]["value"]
    if kind == "array":
        return [{"name": "acme", "api_key": f"key of {setting['name']}"}, {"name": "globex"}]
    return {
        "integer": 7,
        "boolean": True,
        "object": {"teli_leads": {"__alias__": "teli_contacts"}},
        "date_iso8601": "2025-01-02T03:04:05Z",
    }.get(kind, f"value of {setting['name']}")


def test_meltano_passes_every_setting(meltano_installed, tmp_path):
    """Each declared setting, set through its environment variable, reaches the tap's config."""
    config: dict = {}
    for setting in extractor()["settings"]:
        *parents, leaf = setting["name"].split(".")
        block = config
        for parent in parents:
            block = block.setdefault(parent, {})
        block[leaf] = _sample(setting)
    env = {**meltano_environ(tmp_path), **meltano_env.tap_env(config)}
    assert env["TAP_LEADS_FLEXTELL_ACCESS_TOKEN"] == "value of flextell.access_token"

    log = tmp_path / "dump.log"
    command = [str(MELTANO), "invoke", "--dump=config", "tap-leads"]
    with (tmp_path / "config.json").open("w") as out, log.open("w") as err, plugins_lock():
        completed = subprocess.run(
            command, stdout=out, stderr=err, env=env, cwd=REPO, timeout=300, check=False
        )
    assert completed.returncode == 0, log.read_text()[-3000:]
    assert json.loads((tmp_path / "config.json").read_text()) == config


def test_accounts_and_shard_from_the_environment(meltano_installed, tmp_path):
    """A list of accounts and a shard, each in one variable, reach the tap as JSON values."""
    accounts = [
        {"name": "acme", "api_key": "key-acme", "campaign_id": 7},
        {"name": "globex", "api_key": "key-globex"},
    ]
    env = {
        **meltano_environ(tmp_path),
        "TAP_LEADS_AUTOCALLS_ACCOUNTS": json.dumps(accounts),
        "TAP_LEADS_AUTOCALLS_PAGE_SIZE": "50",
        "TAP_LEADS_SHARD": "3/8",
    }
    log = tmp_path / "dump.log"
    command = [str(MELTANO), "invoke", "--dump=config", "tap-leads"]
    with (tmp_path / "config.json").open("w") as out, log.open("w") as err, plugins_lock():
        completed = subprocess.run(
            command, stdout=out, stderr=err, env=env, cwd=REPO, timeout=300, check=False
        )
    assert completed.returncode == 0, log.read_text()[-3000:]
    assert json.loads((tmp_path / "config.json").read_text()) == {
        "autocalls": {"accounts": accounts, "page_size": 50},
        "shard": "3/8",
    }


def test_number_settings_from_the_environment(meltano_installed, tmp_path):
    env = {
        **meltano_environ(tmp_path),
        "TAP_LEADS_TELI_API_KEY": "key",
        "TAP_LEADS_TELI_ORG_ID": "org",
        "TAP_LEADS_TELI_REQUESTS_PER_SECOND": "2.5",
        "TAP_LEADS_BACKOFF_BASE_SECONDS": "0.5",
        "TAP_LEADS_PROGRESS_INTERVAL_SECONDS": "2",
    }
    log = tmp_path / "discover.log"
    with plugins_lock():
        run_logged(
            [str(MELTANO), "invoke", "tap-leads", "--discover"], log, env=env, timeout=300
        ).check()


def test_meltano_redacts_secrets_and_keeps_the_project_file(meltano_installed, tmp_path):
    before = (REPO / "meltano.yml").read_bytes()
    env = {
        **meltano_environ(tmp_path),
        "TAP_LEADS_TELI_API_KEY": "teli-secret-4242",
        "TAP_LEADS_TELI_ORG_ID": "org-4242",
    }
    log = tmp_path / "config.log"
    with plugins_lock():
        run_logged([str(MELTANO), "config", "list", "tap-leads"], log, env=env, timeout=300).check()
    listing = log.read_text(encoding="utf-8")
    assert "teli-secret-4242" not in listing
    assert "teli.api_key (required by group 1) [env: TAP_LEADS_TELI_API_KEY]" in listing
    assert "current value: 'org-4242'" in listing
    assert (REPO / "meltano.yml").read_bytes() == before
