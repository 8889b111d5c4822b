"""The emulator's benchmark knobs: no page cache, and a log of each request's start and end."""

from __future__ import annotations

import requests

from emulator import LeadsEmulator
from emulator.store import Dataset
from emulator.timing import TimingLog


def test_every_page_is_rendered_afresh_without_the_page_cache(monkeypatch):
    monkeypatch.setattr(Dataset, "page_cache", False)
    rendered = []
    with LeadsEmulator(leads_per_provider=0, leads={"teli": 30}, seed=3) as emu:
        api = emu._registry.apis["teli"]  # the provider API that renders pages
        original = api.serialize
        monkeypatch.setattr(api, "serialize", lambda *args: rendered.append(1) or original(*args))
        config = emu.tap_config(providers=["teli"])["teli"]
        url = f"{config['api_url']}/v1/organizations/{config['org_id']}/leads"
        for _ in range(3):
            answer = requests.get(
                url,
                params={"page": 1, "page_size": 10, "is_admin": "true"},
                headers={"X-API-Key": config["api_key"]},
                timeout=10,
            )
            assert answer.status_code == 200
    assert len(rendered) == 3


def test_the_timing_log_has_each_requests_start_and_end(tmp_path):
    log = TimingLog(tmp_path / "requests.log")
    with LeadsEmulator(leads_per_provider=0, leads={"teli": 5}, latency_ms=30) as emu:
        emu.stop()
        emu.dispatch = log.wrap(emu.dispatch)
        emu.start()
        config = emu.tap_config(providers=["teli"])["teli"]
        url = f"{config['api_url']}/v1/organizations/{config['org_id']}/leads"
        for page in (1, 2):
            requests.get(
                url,
                params={"page": page, "page_size": 2, "is_admin": "true"},
                headers={"X-API-Key": config["api_key"]},
                timeout=10,
            )
    log.close()
    lines = (tmp_path / "requests.log").read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        start, end, status, path = line.split()
        assert status == "200"
        assert path.endswith("/leads")
        assert float(end) - float(start) >= 0.03  # the latency is inside the span
