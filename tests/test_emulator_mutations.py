"""Lists that change while they are read: deletes, inserts and moves fired after a given page."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulator import PROVIDERS, LeadsEmulator

from .test_emulator import PAGE_SIZE, ROWS, auth, list_url

TOTALS = {
    "teli": lambda body: (body["total"], body["total_pages"]),
    "nexus_erp": lambda body: (body["pagination"]["total"], body["pagination"]["totalPages"]),
    "flextell": lambda body: (body["meta"]["total"], body["meta"]["last_page"]),
    "sela": lambda body: (body["count"], None),
    "autocalls": lambda body: (body["total"], body["last_page"]),
}
SIZE = 10


@pytest.fixture
def emu():
    with LeadsEmulator(leads_per_provider=60, seed=5) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def page(http, emu: LeadsEmulator, provider: str, number: int, **params: Any) -> dict[str, Any]:
    query = {PAGE_SIZE[provider]: SIZE, "page": number, **params}
    if provider == "teli":
        query["is_admin"] = "true"
    response = http.get(list_url(emu, provider), params=query, headers=auth(emu, provider))
    assert response.status_code == 200, response.text
    return response.json()


def keys(emu: LeadsEmulator, provider: str, body: dict[str, Any]) -> list[Any]:
    key = emu.primary_key(provider)
    return [lead[key] for lead in body[ROWS[provider]]]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_listing_order_is_what_the_pages_show(http, emu, provider):
    walked = [k for n in range(1, 7) for k in keys(emu, provider, page(http, emu, provider, n))]
    assert walked == emu.listed_keys(provider)
    assert len(set(walked)) == 60


@pytest.mark.parametrize("provider", PROVIDERS)
def test_delete_after_page_two_moves_every_later_lead_up(http, emu, provider):
    before = emu.listed_keys(provider)
    mutation = emu.delete_leads(provider, positions=[0, 3, 12], after_page=2)
    one = page(http, emu, provider, 1)
    assert not mutation.fired
    two = page(http, emu, provider, 2)
    assert mutation.fired
    assert mutation.affected == [before[0], before[3], before[12]]
    # Page 2 was served from the list as it was; page 3 from the list without the three leads.
    assert keys(emu, provider, one) + keys(emu, provider, two) == before[:20]
    three = page(http, emu, provider, 3)
    after = [k for k in before if k not in mutation.affected]
    assert keys(emu, provider, three) == after[20:30]
    assert emu.listed_keys(provider) == after
    total, pages = TOTALS[provider](three)
    assert total == 57
    assert pages in (None, 6)
    assert TOTALS[provider](one)[0] == 60
    trashed = {lead[emu.primary_key(provider)] for lead in emu.trashed(provider)}
    if provider == "flextell":
        assert set(mutation.affected) <= trashed
        deleted = page(http, emu, provider, 1, trashed="true", per_page=100)["data"]
        assert set(mutation.affected) <= {lead["id"] for lead in deleted}
    else:
        assert not trashed & set(mutation.affected)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_insert_front_after_page_one(http, emu, provider):
    before = emu.listed_keys(provider)
    mutation = emu.insert_front(provider, 3, after_page=1)
    first = page(http, emu, provider, 1)
    assert keys(emu, provider, first) == before[:10]
    added = mutation.affected
    assert len(added) == 3
    assert emu.listed_keys(provider) == added + before
    second = page(http, emu, provider, 2)
    # Everything shifted down by three: page 2 repeats the last three of the old page 1.
    assert keys(emu, provider, second) == before[7:17]
    assert TOTALS[provider](second)[0] == 63
    assert keys(emu, provider, page(http, emu, provider, 1))[:3] == added


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("touch", [True, False])
def test_move_to_front(http, emu, provider, touch):
    before = emu.listed_keys(provider)
    key = emu.primary_key(provider)
    replication = {
        "teli": "updated_at",
        "nexus_erp": "updatedAt",
        "flextell": "updated_at",
        "sela": "modified_time",
        "autocalls": "updated_at",
    }[provider]
    stamps = {lead[key]: lead[replication] for lead in emu.leads(provider)}
    mutation = emu.move_to_front(provider, positions=[25, 40], touch=touch, after_page=2)
    page(http, emu, provider, 1)
    page(http, emu, provider, 2)
    moved = mutation.affected
    assert moved == [before[25], before[40]]
    order = emu.listed_keys(provider)
    assert order[:2] == moved
    assert order[2:] == [k for k in before if k not in moved]
    body = page(http, emu, provider, 1)
    assert keys(emu, provider, body)[:2] == moved
    assert TOTALS[provider](body)[0] == 60
    rows = {lead[key]: lead for lead in body[ROWS[provider]]}
    for lead_key in moved:
        changed = rows[lead_key][replication] != stamps[lead_key]
        assert changed is touch
    if provider == "nexus_erp":
        calls = [lead["nextCallAt"] for lead in body["data"]]
        assert calls[0] < calls[1] < min(c for c in calls[2:] if c)


def test_after_the_nth_request_and_both_conditions(http, emu):
    first = emu.schedule_mutation("sela", "delete", n=2, after_requests=3)
    both = emu.schedule_mutation("autocalls", "delete", n=1, after_page=1, after_requests=2)
    page(http, emu, "sela", 1)
    page(http, emu, "sela", 4)
    assert not first.fired
    page(http, emu, "sela", 2)
    assert first.fired
    assert page(http, emu, "sela", 1)["count"] == 58
    page(http, emu, "autocalls", 1)
    page(http, emu, "autocalls", 2)
    assert not both.fired
    page(http, emu, "autocalls", 1)
    assert both.fired
    assert page(http, emu, "autocalls", 1)["total"] == 59


def test_faulted_pages_count_refused_ones_do_not(http, emu):
    mutation = emu.schedule_mutation("nexus_erp", "delete", n=1, after_page=1)
    emu.faults("nexus_erp").server_error(503)
    response = http.get(list_url(emu, "nexus_erp"), headers=auth(emu, "nexus_erp"))
    assert response.status_code == 503
    assert not mutation.fired
    page(http, emu, "nexus_erp", 1)
    assert mutation.fired


def test_immediate_changes_and_bad_requests(emu):
    before = emu.listed_keys("teli")
    gone = emu.delete_leads("teli", n=2, start=5)
    assert gone == before[5:7]
    assert emu.listed_keys("teli") == before[:5] + before[7:]
    assert emu.mutate("teli", "delete", positions=[999]) == []
    with pytest.raises(ValueError, match="exactly one"):
        emu.mutate("teli", "delete")
    with pytest.raises(ValueError, match="unknown mutation"):
        emu.mutate("teli", "explode", n=1)
    with pytest.raises(KeyError):
        emu.schedule_mutation("teli", "move_front", ids=["nope"], after_page=1)
    emu.reset_data()
    assert emu.listed_keys("teli") == before
    assert emu.scheduled_mutations == []


def test_control_surface(http, emu):
    control = f"{emu.url}/_control"
    before = http.get(f"{control}/listed", params={"provider": "flextell"}).json()["keys"]
    assert before == emu.listed_keys("flextell")
    scheduled = http.post(
        f"{control}/mutations",
        json={"provider": "flextell", "kind": "delete", "positions": [0, 1], "after_page": 1},
    ).json()
    assert scheduled["fired"] is False
    page(http, emu, "flextell", 1)
    (record,) = http.get(f"{control}/mutations").json()
    assert (record["id"], record["fired"], record["affected"]) == (
        scheduled["id"],
        True,
        before[:2],
    )
    moved = http.post(
        f"{control}/mutate",
        json={"provider": "flextell", "kind": "move_front", "ids": [before[9]], "touch": False},
    ).json()
    assert moved == {"changed": [before[9]]}
    assert emu.listed_keys("flextell")[0] == before[9]
    refused = http.post(f"{control}/mutate", json={"provider": "flextell", "kind": "nope"})
    assert refused.status_code == 400
