"""Each provider's facts, written once in its spec: ranges, filters, parameters, headers."""

from __future__ import annotations

import pytest

from tap_leads.auth.static import StaticAuth
from tap_leads.engine import pagination
from tap_leads.providers import PROVIDERS, provider
from tap_leads.providers.spec import AuthContext, ProviderSpec

KEYS = ("teli", "nexus_erp", "flextell", "sela", "autocalls")


def test_the_five_providers_in_order():
    assert tuple(spec.key for spec in PROVIDERS) == KEYS
    assert all(isinstance(spec, ProviderSpec) for spec in PROVIDERS)
    assert provider("sela") is PROVIDERS[3]
    with pytest.raises(KeyError, match="no provider 'hubspot'"):
        provider("hubspot")


def test_specs_are_frozen_and_hashable():
    with pytest.raises(AttributeError):
        provider("teli").max_page_size = 500  # type: ignore[misc]
    assert {spec: spec.key for spec in PROVIDERS}[provider("flextell")] == "flextell"


@pytest.mark.parametrize(
    ("key", "stream", "keys", "replication", "change"),
    [
        ("teli", "teli_leads", ("unique_id",), "updated_at", ("updated_at",)),
        ("nexus_erp", "nexus_erp_leads", ("id",), "updatedAt", ("updatedAt",)),
        ("flextell", "flextell_leads", ("id",), "updated_at", ("updated_at", "deleted_at")),
        ("sela", "sela_leads", ("id",), "modified_time", ("modified_time",)),
        ("autocalls", "autocalls_leads", ("id",), "updated_at", ("updated_at",)),
    ],
)
def test_streams_and_keys(key, stream, keys, replication, change):
    spec = provider(key)
    assert spec.stream_name == stream
    assert spec.primary_keys == keys
    assert spec.replication_key == replication
    assert spec.change_fields == change
    assert spec.key_properties(accounts=False) == keys
    assert spec.key_properties(accounts=True) == ("account", *keys)


@pytest.mark.parametrize(
    ("key", "maximum", "default"),
    [
        ("teli", 200, 200),
        ("nexus_erp", 100, 100),
        ("flextell", 100, 100),
        ("sela", 1000, 100),
        ("autocalls", 100, 100),
    ],
)
def test_page_sizes(key, maximum, default):
    spec = provider(key)
    assert (spec.max_page_size, spec.default_page_size) == (maximum, default)
    assert spec.page_size({}) == default
    assert spec.page_size({"page_size": 7}) == 7


@pytest.mark.parametrize(
    ("key", "api_url"),
    [
        ("teli", "https://api.teli.ai"),
        ("nexus_erp", None),
        ("flextell", "https://dev.flextell.ai/api"),
        ("sela", "https://api.trysela.com"),
        ("autocalls", "https://app.autocalls.ai/api"),
    ],
)
def test_api_urls(key, api_url):
    spec = provider(key)
    assert spec.api_url == api_url
    assert ("api_url" in spec.required) is (api_url is None)
    assert spec.base_url({"api_url": "http://127.0.0.1:8000/"}) == "http://127.0.0.1:8000"
    if api_url:
        assert spec.base_url({}) == api_url
        assert spec.defaults() == {"page_size": spec.default_page_size, "api_url": api_url}


@pytest.mark.parametrize(
    ("key", "path", "page", "size", "envelope"),
    [
        ("teli", "/v1/organizations/{org_id}/leads", "page", "page_size", "TotalPagesEnvelope"),
        ("nexus_erp", "/api/v1/leads", "page", "pageSize", "HasNextPageEnvelope"),
        ("flextell", "/v1/leads", "page", "per_page", "LaravelResourceEnvelope"),
        ("sela", "/api/leads/", "page", "page_size", "DrfEnvelope"),
        ("autocalls", "/user/leads", "page", "per_page", "LaravelEnvelope"),
    ],
)
def test_requests(key, path, page, size, envelope):
    spec = provider(key)
    assert (spec.path, spec.page_param, spec.page_size_param) == (path, page, size)
    assert spec.envelope is getattr(pagination, envelope)


def test_teli_path_takes_the_organisation_quoted():
    teli = provider("teli")
    assert teli.request_path({"org_id": "17x38"}) == "/v1/organizations/17x38/leads"
    assert teli.request_path({"org_id": "a/b c"}) == "/v1/organizations/a%2Fb%20c/leads"
    # org_id "*" stands for each organisation the key lists, given per partition.
    listed = []

    def get_json(path):
        listed.append(path)
        return {"organizations": [{"unique_id": "17x9"}, {"unique_id": "17x8"}]}

    assert teli.organizations({"org_id": "*"}, get_json, "teli") == ["17x9", "17x8"]
    assert listed == ["/v1/organizations"]
    assert teli.organizations({"org_id": "17x9"}, get_json, "teli") is None
    assert teli.request_path({"org_id": "*"}, org_id="17x9") == "/v1/organizations/17x9/leads"
    assert provider("sela").request_path({}) == "/api/leads/"
    assert provider("autocalls").organizations({"org_id": "*"}, get_json, "autocalls") is None
    assert listed == ["/v1/organizations"]


@pytest.mark.parametrize(
    ("key", "filters"),
    [
        ("teli", {"user_id": "user_id", "group_id": "group_id", "phone_number": "phone_number"}),
        ("nexus_erp", {"status": "status", "search": "search", "assigned_to_id": "assignedToId"}),
        (
            "flextell",
            {
                "lead_status_id": "lead_status_id",
                "lead_reference_source_id": "lead_reference_source_id",
                "converted": "converted",
                "search": "search",
            },
        ),
        (
            "sela",
            {"email": "email", "external_id": "external_id", "phone_number": "phone_number"}
            | {"user": "user"},
        ),
        (
            "autocalls",
            {"status": "status", "campaign_id": "campaign_id", "phone_number": "phone_number"}
            | {"date_from": "date_from", "date_to": "date_to"},
        ),
    ],
)
def test_filters_under_the_api_names(key, filters):
    spec = provider(key)
    assert {f.name: f.api_name for f in spec.filters} == filters
    assert spec.request_settings == (*filters, "page_size")
    assert spec.setting_names >= {*filters, "api_url", "page_size", "requests_per_second"}


@pytest.mark.parametrize(
    ("key", "settings", "params"),
    [
        ("teli", {}, {"page_size": 200, "is_admin": "true"}),
        ("teli", {"user_id": "u1", "page_size": 50}, {"user_id": "u1", "page_size": 50}),
        (
            "nexus_erp",
            {"assigned_to_id": "m1", "status": ""},
            {"assignedToId": "m1"} | {"pageSize": 100},
        ),
        (
            "flextell",
            {"converted": False, "lead_status_id": 3},
            {"lead_status_id": 3, "converted": "false", "per_page": 100}
            | {"sort_by": "created_at", "sort_order": "asc"},
        ),
        ("sela", {"user": 4, "email": None}, {"user": 4, "page_size": 100}),
        ("autocalls", {"date_from": "2025-01-01"}, {"date_from": "2025-01-01", "per_page": 100}),
    ],
)
def test_params(key, settings, params):
    got = provider(key).params(settings)
    assert got == params
    assert list(got) == list(params), "filters, then the page size, then fixed parameters"


@pytest.mark.parametrize(
    ("key", "settings", "headers"),
    [
        ("teli", {"api_key": " k1 \n"}, {"X-API-Key": "k1"}),
        ("nexus_erp", {"api_key": "sk_1"}, {"Authorization": "Bearer sk_1"}),
        (
            "flextell",
            {"access_token": "at", "tenant_id": 42},
            {"Authorization": "Bearer at", "X-Tenant": "42"},
        ),
        ("sela", {"api_key": "abc"}, {"Authorization": "Token abc"}),
        ("sela", {"api_key": "Token abc"}, {"Authorization": "Token abc"}),
        ("sela", {"api_key": " token   abc "}, {"Authorization": "Token abc"}),
        ("autocalls", {"api_key": "1|xyz"}, {"Authorization": "Bearer 1|xyz"}),
    ],
)
def test_headers(key, settings, headers):
    assert provider(key).headers(settings) == headers


def test_only_flextell_has_extra_headers_and_passes():
    flextell = provider("flextell")
    assert flextell.auth_headers({"access_token": "at", "tenant_id": 1}) == {
        "Authorization": "Bearer at"
    }
    assert flextell.extra_headers({"tenant_id": " 7 "}) == {"X-Tenant": "7"}
    assert flextell.passes({}) == [{}]
    assert flextell.passes({"include_deleted": True}) == [{}, {"trashed": "true"}]
    for spec in PROVIDERS:
        if spec.key != "flextell":
            assert spec.extra_headers({"tenant_id": 1}) == {}
            assert spec.passes({"include_deleted": True}) == [{}]


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("teli", ("teli.api_key", "teli.org_id")),
        ("nexus_erp", ("nexus_erp.api_key",)),
        ("flextell", ("flextell.access_token", "flextell.tenant_id")),
        ("sela", ("sela.api_key",)),
        ("autocalls", ("autocalls.api_key",)),
    ],
)
def test_auth_errors_name_the_credentials(key, named):
    spec = provider(key)
    assert spec.credential_settings() == named
    prefix = f"{key}.accounts[acme]"
    assert spec.credential_settings(prefix) == tuple(name.replace(key, prefix, 1) for name in named)


def test_credentials_and_secrets():
    assert {spec.key: tuple(spec.credentials) for spec in PROVIDERS} == {
        "teli": ("api_key", "org_id"),
        "nexus_erp": ("api_key",),
        "flextell": ("tenant_id",),
        "sela": ("api_key",),
        "autocalls": ("api_key",),
    }
    assert provider("flextell").secrets == ("access_token", "client_secret", "refresh_token")
    for key in ("teli", "nexus_erp", "sela", "autocalls"):
        assert provider(key).secrets == ("api_key",)
    flextell_extras = [p.name for p in provider("flextell").extras]
    assert flextell_extras == [
        "access_token",
        "client_id",
        "client_secret",
        "refresh_token",
        "token_url",
        "token_store",
        "include_deleted",
    ]


def test_teli_explains_a_404_under_the_account_prefix():
    teli = provider("teli")
    assert teli.explain_404({"user_id": "u1"}, "teli", ": User not found") == (
        "Teli does not know the user in teli.user_id (HTTP 404: User not found). "
        "Check teli.user_id: it takes a user's unique_id, like 1762896364768x3891…, "
        "not the UUID id."
    )
    assert teli.explain_404({}, "teli.accounts[p]", ": Organization not found") == (
        "Teli does not know the organisation in teli.accounts[p].org_id (HTTP 404: "
        "Organization not found). Check teli.accounts[p].org_id: it takes the "
        "organisation's unique_id."
    )
    assert teli.explain_404({}, "teli", "") is None
    assert provider("sela").explain_404({}, "sela", ": Not found") is None


def test_only_teli_reads_an_error_envelope():
    teli = provider("teli")
    assert teli.envelope_error({"success": False, "error": "Unknown user"}) == (
        "success=false (Unknown user)"
    )
    assert teli.envelope_error({"success": False}) == "success=false (no error given)"
    assert teli.envelope_error({"success": True, "leads": []}) is None
    assert teli.envelope_error([{"success": False}]) is None
    for spec in PROVIDERS:
        if spec.key != "teli":
            assert spec.envelope_error({"success": False, "error": "x"}) is None


def test_each_spec_builds_its_auth():
    context = AuthContext(account="default", setting="sela", timeout=5.0)
    sela = provider("sela").auth({"api_key": "Token abc"}, context)
    assert isinstance(sela, StaticAuth)
    assert sela.headers() == {"Authorization": "Token abc"}
    flextell = provider("flextell").auth({"access_token": "at", "tenant_id": 42}, context)
    assert isinstance(flextell, StaticAuth)
    # The Bearer header and X-Tenant come from the spec, once.
    assert flextell.headers() == {"Authorization": "Bearer at", "X-Tenant": "42"}
    assert flextell.auth_advice() == "Check sela.access_token and sela.tenant_id."


def test_the_enumerated_filters_take_the_documented_values():
    choices = {
        (spec.key, f.name): f.choices for spec in PROVIDERS for f in spec.filters if f.choices
    }
    assert choices == {
        ("nexus_erp", "status"): ("NOT_CONTACTED", "CONTACTED", "QUALIFIED", "CONVERTED", "LOST"),
        ("autocalls", "status"): (
            "created",
            "scheduled",
            "processing",
            "completed",
            "rescheduled",
            "reached-max-retries",
            "blacklisted",
        ),
    }
