import logging

from tap_leads.records import RecordShaper
from tap_leads.replication.membership import KeyLedger
from tap_leads.streams import load_schema


def shaper(stream):
    return RecordShaper(load_schema(stream), stream, logging.getLogger("test"))


def test_flextell_is_converted_and_nested_objects_are_coerced():
    s = shaper("flextell_leads")
    row = s.shape(
        {
            "id": "7",
            "is_converted": "1",
            "updated_at": "2023-11-07T05:31:56Z",
            "status": {"id": "3", "is_terminal": "false", "name": "New"},
            "country_id": 4.0,
        }
    )
    assert row == {
        "id": 7,
        "is_converted": True,
        "updated_at": "2023-11-07T05:31:56.000000+00:00",
        "status": {"id": 3, "is_terminal": False, "name": "New"},
        "country_id": 4,
    }


def test_bad_timestamp_becomes_null_and_is_counted_once_per_field(caplog):
    s = shaper("sela_leads")
    for _ in range(3):
        row = s.shape({"id": 1, "next_call_time": "025-02-28T15:09:03.122515-08:00"})
        assert row["next_call_time"] is None
    with caplog.at_level(logging.WARNING):
        s.log_summary()
    assert caplog.messages == [
        "sela_leads: 3 value(s) of 'next_call_time' could not be read as the schema's type "
        "and were emitted as null."
    ]


def test_autocalls_string_ids_and_nested_contact_timestamps():
    s = shaper("autocalls_leads")
    row = s.shape(
        {
            "id": "123",
            "variables": [{"k": "v"}],
            "secondary_contacts": [{"id": "2", "created_at": "2025-06-30 11:18:04"}],
        }
    )
    assert row["id"] == 123
    assert row["variables"] == [{"k": "v"}]
    assert row["secondary_contacts"] == [
        {"id": 2, "created_at": "2025-06-30T11:18:04.000000+00:00"}
    ]


def test_free_form_objects_are_kept_whole():
    s = shaper("sela_leads")
    metadata = {"created_at": "02/28/2025 15:09", "nested": {"a": [1, 2]}}
    assert s.shape({"id": 1, "metadata": dict(metadata)})["metadata"] == metadata


def test_closed_schema_drops_unknown_keys_and_says_so(caplog):
    s = shaper("nexus_erp_leads")
    assert s.shape({"id": "a", "surprise": 1}) == {"id": "a"}
    with caplog.at_level(logging.WARNING):
        s.log_summary()
    assert "fields not in the schema were dropped: surprise" in caplog.text


def test_teli_keeps_flattened_custom_fields_as_strings():
    s = shaper("teli_leads")
    row = s.shape({"unique_id": "1x2", "fico_score": 720, "undocumented_field": "kept"})
    assert row == {"unique_id": "1x2", "fico_score": "720", "undocumented_field": "kept"}


def test_key_ledger_counts_repeats():
    ledger = KeyLedger()
    assert [ledger.first_time(k) for k in [1, 2, 1, 3, 2]] == [True, True, False, True, False]
    assert ledger.repeats == 2


def test_null_nested_objects_can_be_omitted_for_flattening():
    keep = shaper("flextell_leads")
    assert keep.shape({"id": 1, "assigned_user": None}) == {"id": 1, "assigned_user": None}
    omit = RecordShaper(
        load_schema("flextell_leads"), "f", logging.getLogger("t"), omit_null_objects=True
    )
    assert omit.shape({"id": 1, "assigned_user": None, "status": {"id": 2}}) == {
        "id": 1,
        "status": {"id": 2},
    }
