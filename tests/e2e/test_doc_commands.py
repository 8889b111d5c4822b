"""Every `meltano …`, `tap-leads …` and install command quoted in README.md and docs/ works:
run against the emulator where it can be, otherwise parsed by the program's own parser
(the pinned Meltano's for `meltano`), so that the docs cannot drift from the tools."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tap_leads.config.env import NOT_SETTINGS, _variables
from tap_leads.tap import TapLeads
from tests.doc_commands import (
    DOCS,
    REPO,
    SHELL_BLOCK,
    all_commands,
    commands,
    emulator_problem,
    meltano_problems,
    tap_leads_problem,
)
from tests.e2e.conftest import MELTANO, TAP, clean_environ, meltano_environ

pytestmark = pytest.mark.e2e

COMMANDS = all_commands()
PLACEHOLDER = "/path/to/tap-leads"


def of(program: str) -> list:
    return [c for c in COMMANDS if c.program == program]


def local(args: tuple[str, ...]) -> tuple[str, ...]:
    """The docs' /path/to/tap-leads is this clone."""
    return tuple(a.replace(PLACEHOLDER, str(REPO)) for a in args)


def test_the_docs_quote_the_commands_this_test_checks():
    assert len(COMMANDS) >= 40
    assert len(of("tap-leads")) >= 8
    assert len(of("meltano")) >= 15
    assert of("emulator")
    assert len(of("pip")) >= 3


def test_every_tap_leads_command_parses():
    problems = [(c.doc, c.text, tap_leads_problem(c.args)) for c in of("tap-leads")]
    assert [p for p in problems if p[2]] == []


def test_every_meltano_command_parses_with_the_pinned_meltano():
    found = of("meltano")
    answers = meltano_problems([local(c.args) for c in found])
    assert [(c.doc, c.text, a) for c, a in zip(found, answers, strict=True) if a] == []


def test_every_emulator_command_parses():
    assert [
        (c.doc, c.text, emulator_problem(c.args))
        for c in of("emulator")
        if emulator_problem(c.args)
    ] == []


def test_every_script_named_exists():
    scripts = {c.program for c in COMMANDS if c.program.startswith("scripts/")}
    assert {"scripts/demo", "scripts/test", "scripts/setup", "scripts/meltano-install"} <= scripts
    assert [s for s in scripts if not os.access(REPO / s, os.X_OK)] == []


def test_wrong_commands_are_caught():
    planted = commands(
        "```bash\n"
        "meltano config tap-leads set teli.api_key x\n"
        "meltano add extractor tap-leads --form-ref plugin/tap-leads.yml\n"
        ".venv/bin/tap-leads --confg config.json | target-jsonl\n"
        "python -m emulator --prot 1 &\n"
        "```\n"
        "Run `tap-leads --about --format yaml`.\n"
    )
    assert [c.program for c in planted] == [
        "meltano",
        "meltano",
        "tap-leads",
        "emulator",
        "tap-leads",
    ]
    assert meltano_problems([c.args for c in planted[:2]]) == [
        "No such command 'tap-leads'.",
        "No such option '--form-ref'. Did you mean '--from-ref'?",
    ]
    assert tap_leads_problem(planted[2].args) == (
        "No such option '--confg'. (Did you mean one of: '--catalog', '--config'?)"
    )
    assert "unrecognized arguments: --prot 1" in (emulator_problem(planted[3].args) or "")
    assert "'yaml' is not one of 'json', 'markdown'" in (tap_leads_problem(planted[4].args) or "")


def test_every_tap_leads_variable_the_docs_name_is_one(tmp_path):
    schema = TapLeads.config_jsonschema
    TapLeads.append_builtin_config(schema)
    known = set(_variables(schema)) | NOT_SETTINGS
    named = {
        (path.name, name)
        for path in DOCS
        for line in path.read_text().splitlines()
        # A typo the troubleshooting table quotes on purpose.
        if "is not a tap-leads setting" not in line
        for name in re.findall(r"\bTAP_LEADS_[A-Z0-9_]*[A-Z0-9]\b", line)
    }
    assert len(named) >= 10
    assert sorted(n for n in named if n[1] not in known) == []


# ----- run against the emulator ----------------------------------------------------


def test_the_plain_pipe_commands_run_against_the_emulator(emu, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(emu.tap_config(providers=["sela"])))
    (tmp_path / "emulator-accounts.json").write_text(json.dumps(emu.accounts_config(["sela"])))
    (tmp_path / "state.json").write_text('{"bookmarks": {}}')
    env = {**os.environ, "TAP_LEADS_SELA": json.dumps(emu.tap_config(providers=["sela"])["sela"])}
    ran = []
    for command in of("tap-leads"):
        files = [a for a in command.args if a.endswith(".json")]
        if not all((tmp_path / f).exists() for f in files) or "x" in command.args:
            continue
        result = subprocess.run(
            [str(TAP), *command.args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
            env=env,
        )
        assert result.returncode == 0, (command.doc, command.text, result.stderr[-2000:])
        ran.append(command.args)
    assert ("--config", "config.json", "--test") in ran
    assert ("--config", "ENV", "--state", "state.json") in ran
    assert len(ran) >= 6


def test_the_readme_starts_and_stops_the_emulator_as_it_says(tmp_path):
    """The README's block, as a script (on a free port instead of 8765)."""
    readme = (REPO / "README.md").read_text()
    [block] = [b for b in SHELL_BLOCK.findall(readme) if "kill $EMULATOR_PID" in b]
    (tmp_path / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    # Whatever happens, the emulator stops with the script.
    script = "set -e\ntrap 'kill $EMULATOR_PID 2>/dev/null || true' EXIT\n" + block.replace(
        "--port 8765", "--port 0"
    )
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "All 6 account(s) read their first page: 6 lead(s) emitted." in result.stderr
    accounts = json.loads((tmp_path / "emulator-accounts.json").read_text())
    assert [a["name"] for a in accounts["sela"]["accounts"]] == ["default", "acme"]


def test_install_lines_work_from_a_clone_and_a_built_wheel(tmp_path):
    [wheel_line] = [c for c in of("pip") if c.args[:1] == ("wheel",)]
    dist = tmp_path / "dist"
    args = [str(dist) if a == "dist" else str(REPO) if a == "." else a for a in wheel_line.args]
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, *args, "--quiet"], check=True, timeout=600, cwd=tmp_path)
    [wheel] = dist.glob("tap_leads-*.whl")
    installs = [c for c in of("pip") if c.args[:1] == ("install",)]
    assert len(installs) >= 2
    lines = [local(c.args) for c in installs]
    lines.append(("install", str(wheel)))  # the README's `pip install dist/tap_leads-*.whl`
    for args in lines:
        result = subprocess.run(
            [*pip, *args, "--dry-run", "--quiet", "--no-deps"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=tmp_path,
        )
        assert result.returncode == 0, (args, result.stderr[-2000:])


# ----- what the Meltano instructions promise ----------------------------------------


def meltano(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(MELTANO), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env=env,
    )
    assert result.returncode == 0, (args, result.stderr[-3000:])
    return result


@pytest.fixture
def project(tmp_path) -> tuple[Path, dict[str, str]]:
    """A new Meltano project with tap-leads added as the README says."""
    env = meltano_environ(tmp_path)
    meltano("init", "project", "--no_usage_stats", cwd=tmp_path, env=env)
    root = tmp_path / "project"
    [add] = [c for c in of("meltano") if c.args[:1] == ("add",)]
    meltano(*local(add.args), cwd=root, env=env)
    return root, env


def test_meltano_add_adds_only_the_extractor(project):
    root, _env = project
    plugins = yaml.safe_load((root / "meltano.yml").read_text())["plugins"]
    assert list(plugins) == ["extractors"]
    assert [p["name"] for p in plugins["extractors"]] == ["tap-leads"]


def test_meltano_config_set_writes_secrets_to_env_and_the_rest_to_meltano_yml(project):
    root, env = project
    [pip_url] = [c for c in of("meltano") if "_pip_url" in c.args]
    meltano(*local(pip_url.args), cwd=root, env=env)
    meltano("config", "set", "tap-leads", "teli.api_key", "teli-secret-9", cwd=root, env=env)
    meltano("config", "set", "tap-leads", "teli.org_id", "org-9", cwd=root, env=env)
    meltano(
        "config", "set", "tap-leads", "autocalls.accounts", '[{"name": "a"}]', cwd=root, env=env
    )

    project_file = (root / "meltano.yml").read_text()
    dotenv = (root / ".env").read_text()
    assert "teli-secret-9" not in project_file
    assert "TAP_LEADS_TELI_API_KEY='teli-secret-9'" in dotenv
    assert "TAP_LEADS_AUTOCALLS_ACCOUNTS=" in dotenv
    [extractor] = yaml.safe_load(project_file)["plugins"]["extractors"]
    assert extractor["config"] == {"teli": {"org_id": "org-9"}}
    assert extractor["pip_url"] == str(REPO)


def test_meltano_lists_no_accounts_setting_as_required(project):
    root, env = project
    listing = meltano("config", "list", "tap-leads", cwd=root, env=env).stdout
    required = listing.split("Required:", 1)[1].split("\n\n", 1)[0]
    assert "teli.api_key" in required
    assert "accounts" not in required


def test_the_extractor_installs_from_a_clone_as_the_readme_says(tmp_path):
    """add, _pip_url and install as the README quotes them, in a project of its own (its
    plugins install under tmp_path, never into this repository's .meltano)."""
    env = {**clean_environ(), "MELTANO_SYS_DIR_ROOT": str(tmp_path / "system")}
    meltano("init", "project", "--no_usage_stats", cwd=tmp_path, env=env)
    root = tmp_path / "project"
    for prefix in (("add",), ("config", "set", "tap-leads", "_pip_url"), ("install",)):
        [command] = [c for c in of("meltano") if c.args[: len(prefix)] == prefix]
        meltano(*local(command.args), cwd=root, env=env)
    version = meltano("invoke", "tap-leads", "--version", cwd=root, env=env)
    assert "tap-leads v" in version.stdout
    assert (tmp_path / "system" / "extractors" / "tap-leads").is_dir()
