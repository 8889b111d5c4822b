"""The SDK's standard tap and stream tests, over all five streams against the emulator."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from emulator import LeadsEmulator
from tap_leads.tap import TapLeads
from tests.conftest import FAST

# The SDK builds its test class from a config at import time, so the emulator must
# already be listening then; it stops when the test session ends.
_EMULATOR = LeadsEmulator(leads_per_provider=60, seed=11)
_EMULATOR.start()
atexit.register(_EMULATOR.stop)

# deleted_leads reports leads that left a list since an earlier run: a first run has none.
TestTapLeads = get_tap_test_class(
    TapLeads,
    config={**FAST, **_EMULATOR.tap_config()},
    suite_config=SuiteConfig(ignore_no_records_for_streams=["deleted_leads"]),
)
