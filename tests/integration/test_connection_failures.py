"""Requests that get no HTTP answer are reported by their real cause, naming api_url."""

from __future__ import annotations

import socket
import time

from tests.conftest import STREAMS


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def teli_config(emulator, api_url: str, **extra) -> dict:
    return emulator.tap_config(providers=["teli"], teli={"api_url": api_url}, **extra)


def test_a_refused_connection_before_any_answer_fails_fast_naming_api_url(emulator, run_tap):
    port = closed_port()
    started = time.monotonic()
    run = run_tap(teli_config(emulator, f"http://127.0.0.1:{port}", max_tries=8))
    assert run.returncode == 1
    # Two quick tries, not minutes of backoff (the bound is generous for a loaded machine).
    assert time.monotonic() - started < 20
    assert run.errors[-1] == (
        "1 stream(s) failed (0 other(s) completed): teli_leads: Teli still failed on page 1 "
        f"after 2 tries: the connection to 127.0.0.1:{port} was refused, and nothing answered "
        "there in this run. Check teli.api_url: the host and port, and that the API is up."
    )
    assert run.stderr.count("Teli: page 1 failed (the connection to") == 1
    assert "Traceback" not in run.stderr


def test_a_host_that_does_not_resolve_fails_after_one_quick_retry(emulator, run_tap):
    started = time.monotonic()
    run = run_tap(teli_config(emulator, "http://no-such-host.invalid", max_tries=8))
    assert run.returncode == 1
    assert time.monotonic() - started < 20
    assert run.errors[-1] == (
        "1 stream(s) failed (0 other(s) completed): teli_leads: Teli still failed on page 1 "
        "after 2 tries: the host name no-such-host.invalid does not resolve. Check "
        "teli.api_url: the host name, and the network's DNS."
    )
    assert run.stderr.count("Teli: page 1 failed") == 1


def test_tls_to_a_plain_http_port_fails_at_once(emulator, run_tap):
    host = emulator.url.split("//")[1]
    run = run_tap(teli_config(emulator, f"https://{host}"))
    assert run.returncode == 1
    last = run.errors[-1]
    assert last.startswith(
        "1 stream(s) failed (0 other(s) completed): teli_leads: Teli: the TLS handshake "
        f"with {host} failed ("
    )
    assert last.endswith("Check teli.api_url: the scheme and host.")
    assert "page 1 failed" not in run.stderr


def test_a_real_timeout_is_reported_as_one(emulator, run_tap):
    emulator.latency_ms = 2500
    run = run_tap(emulator.tap_config(providers=["teli"], request_timeout=1, max_tries=2))
    assert run.returncode == 1
    assert run.errors[-1] == (
        "1 stream(s) failed (0 other(s) completed): teli_leads: Teli still failed on page 1 "
        "after 2 tries: no answer within request_timeout (1 s). The provider looks "
        "unavailable: run the tap later, or raise max_tries."
    )


def test_an_html_page_answered_with_200_is_named_as_such(emulator, run_tap):
    emulator.faults("sela").maintenance_page(page=2)
    run = run_tap(emulator.tap_config(providers=["sela"], sela={"page_size": 50}))
    assert run.returncode == 0, run.stderr
    assert len(run.records(STREAMS["sela"])) == 120
    assert (
        "Sela: page 2 failed (page 2 came back as HTML instead of JSON (a proxy or "
        "maintenance page?)); retry 1 of 3"
    ) in run.stderr
