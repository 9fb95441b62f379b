"""Label values: only safe characters, and never more distinct values than budgeted."""

from __future__ import annotations

import pytest

from gateway.metrics.labels import (
    INVALID,
    OTHER,
    EntityTypeLabels,
    RouteLabels,
    TenantLabels,
    choice_label,
    status_label,
)


def test_the_first_tenants_keep_their_names_and_later_ones_become_other() -> None:
    tenants = TenantLabels(max_tenants=3)
    assert [tenants(name) for name in ("acme", "globex", "initech")] == [
        "acme",
        "globex",
        "initech",
    ]
    assert tenants("umbrella") == OTHER
    assert tenants("acme") == "acme", "a tenant seen early keeps its own series"
    assert tenants.seen == {"acme", "globex", "initech"}


@pytest.mark.parametrize(
    "raw",
    [
        "alice@example.com",  # an e-mail address must never become a label
        "Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.sig",
        "ACME",
        "-leading-dash",
        "",
        "a" * 64,
        "acme\n",
        "acme corp",
    ],
)
def test_names_outside_the_tenant_charset_become_invalid(raw: str) -> None:
    tenants = TenantLabels()
    assert tenants(raw) == INVALID
    assert tenants.seen == frozenset(), "invalid values do not use up the budget"


def test_entity_types_are_upper_case_names() -> None:
    types = EntityTypeLabels(max_types=2)
    assert types("EMAIL_ADDRESS") == "EMAIL_ADDRESS"
    assert types("US_SSN") == "US_SSN"
    assert types("IBAN_CODE") == OTHER
    assert types("john.doe@example.com") == INVALID


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/v1/audit/records/{record_id:str}", "/v1/audit/records/{record_id:str}"),
        ("unmatched", "unmatched"),
        ("/v1/audit/records/Alice%40example.com", INVALID),
        ("v1/chat/completions", INVALID),
        ("/search?q=secret", INVALID),
    ],
)
def test_routes_must_be_templates(raw: str, label: str) -> None:
    assert RouteLabels()(raw) == label


def test_route_templates_are_bounded_too() -> None:
    routes = RouteLabels(max_routes=1)
    assert routes("/healthz") == "/healthz"
    assert routes("/v1/models/abc123") == OTHER
    assert routes("unmatched") == "unmatched", "the 404 bucket never overflows"


def test_choices_and_status_codes() -> None:
    assert choice_label("tokens", {"tokens", "requests"}) == "tokens"
    assert choice_label("TOKENS", {"tokens", "requests"}) == INVALID
    assert status_label(200) == "200"
    assert status_label(599) == "599"
    assert status_label(600) == INVALID
    assert status_label(-1) == INVALID


def test_a_label_needs_a_budget() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TenantLabels(max_tenants=0)
