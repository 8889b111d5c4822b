"""`meltano config test` on a healthy project: it passes, and the tap logs no WARNING or ERROR."""

from __future__ import annotations

import pytest

from emulator import LeadsEmulator
from tests.e2e.conftest import MeltanoProject

pytestmark = pytest.mark.e2e

# Sela's emulated leads carry the documented malformed next_call_time, which the tap
# rightly warns about; the four other providers' leads are clean.
CLEAN = ["teli", "nexus_erp", "flextell", "autocalls"]


def test_meltano_config_test_passes_quietly(meltano_installed, tmp_path):
    with LeadsEmulator(leads_per_provider=50, seed=3) as emu:
        meltano = MeltanoProject(tmp_path, emu, providers=CLEAN)
        result = meltano("config", "test", "tap-leads").check()
    log = result.log.read_text()
    assert "Plugin configuration is valid" in log
    assert [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line] == []
    assert {r.provider for r in emu.requests} == set(CLEAN)
