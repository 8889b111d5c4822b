"""Which runs write a page at a time (sdk_hooks.page_sync), and which take the SDK's loop.

tests/integration/test_page_path.py compares the output of the two paths; this says that
the runs it compares really take different paths.
"""

from __future__ import annotations

import inspect

from singer_sdk import Stream

from tap_leads.sdk_hooks import page_sync
from tap_leads.tap import TapLeads

TELI = {"teli": {"api_key": "k", "org_id": "o", "api_url": "http://127.0.0.1:9/teli"}}


def teli_stream(config: dict | None = None, catalog: dict | None = None) -> Stream:
    tap = TapLeads(config={**TELI, **(config or {})}, catalog=catalog, setup_mapper=True)
    return tap.streams["teli_leads"]


def takes_pages(stream: Stream, *, write_messages: bool = True) -> bool:
    return page_sync.applies(stream, write_messages=write_messages)


def test_a_plain_run_writes_a_page_at_a_time():
    assert takes_pages(teli_stream())


def test_maps_flattening_and_batch_take_the_sdks_loop():
    assert not takes_pages(teli_stream({"stream_maps": {"teli_leads": {}}}))
    assert not takes_pages(teli_stream({"stream_maps": {"teli_leads": {"x": "'y'"}}}))
    assert not takes_pages(teli_stream({"flattening_enabled": True, "flattening_max_depth": 1}))
    # BATCH collects records from the SDK's loop with write_messages=False.
    assert not takes_pages(teli_stream(), write_messages=False)


def test_a_deselected_field_or_stream_takes_the_sdks_loop():
    catalog = TapLeads(config=TELI).catalog_dict
    entry = next(s for s in catalog["streams"] if s["tap_stream_id"] == "teli_leads")
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] == ["properties", "email"]:
            metadata["metadata"]["selected"] = False
        if metadata["breadcrumb"] == []:
            metadata["metadata"]["selected"] = True
    deselected = teli_stream(catalog=catalog)
    assert not deselected.everything_selected
    assert not takes_pages(deselected)
    stream = teli_stream()
    stream.selected = False
    assert not takes_pages(stream)


def test_an_overridden_post_process_or_a_stream_version_takes_the_sdks_loop():
    stream = teli_stream()
    stream._stream_version = 1
    assert not takes_pages(stream)

    class Processed(type(teli_stream())):  # type: ignore[misc]
        def post_process(self, row: dict, context: dict | None = None) -> dict | None:
            return row

    tap = TapLeads(config=TELI)
    assert not takes_pages(Processed(tap))


def test_the_page_path_yields_nothing_to_the_sdks_sync_which_discards_records():
    source = inspect.getsource(Stream.sync)
    assert "for _ in self._sync_records(context=context):\n                    pass" in source
