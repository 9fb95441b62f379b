"""Compliance officers read their own tenant's audit trail (API and web page), and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from gateway.audit.events import AuditEvent
from gateway.audit.setup import AuditTrail
from gateway.auth.middleware import AUDIT_UI_COOKIE
from tests.support.echo_engine import ECHO_MODEL
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
SCRIPT = "<script>alert(1)</script>"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def compliance(tokens: TokenFactory, tenant: str = "acme") -> dict[str, str]:
    token, _ = tokens.issue(tenant, ("compliance",))
    return bearer(token)


async def chat(client: Client, tokens: TokenFactory, tenant: str, content: str) -> str:
    """One allowed request by an ``app`` token of ``tenant``; its request id."""
    token, _ = tokens.issue(tenant, ("app",))
    body = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": content}]}
    response = await client.post("/v1/chat/completions", json=body, headers=bearer(token))
    assert response.status_code == 200
    return str(response.headers["x-request-id"])


async def record(trail: AuditTrail, tenant: str, **fields: Any) -> int:
    """A refused request's record written straight to the trail; its id."""
    event = AuditEvent(
        kind="refused", request_id=f"req-{tenant}", tenant=tenant, decision="refused", **fields
    )
    return (await trail.writer.append(event)).event_id


async def events(client: Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/audit/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_compliance_lists_filters_and_shows_its_tenants_records(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    tokens.add_tenant("acme", "engineering")
    request_id = await chat(anonymous_client, tokens, "acme", "mail jane@example.com today")
    await chat(anonymous_client, tokens, "acme", "second request")
    officer = compliance(tokens)

    everything = await events(anonymous_client, officer)
    assert len(everything["data"]) == 4
    assert {event["tenant"] for event in everything["data"]} == {"acme"}
    mine = await events(anonymous_client, officer, request_id=request_id)
    assert [event["kind"] for event in mine["data"]] == ["completed", "started"]
    (started,) = (await events(anonymous_client, officer, entity_type="EMAIL_ADDRESS"))["data"]
    assert started["request_id"] == request_id
    assert started["entity_counts"] == {"EMAIL_ADDRESS": 1}
    assert len((await events(anonymous_client, officer, kind="completed"))["data"]) == 2
    filtered = await events(anonymous_client, officer, department="engineering", status=200)
    assert len(filtered["data"]) == 2
    assert (await events(anonymous_client, officer, since="2999-01-01"))["data"] == []

    first = await events(anonymous_client, officer, limit=3)
    rest = await events(anonymous_client, officer, limit=3, cursor=first["next_cursor"])
    assert [e["id"] for e in first["data"] + rest["data"]] == [e["id"] for e in everything["data"]]
    assert rest["next_cursor"] is None

    shown = await anonymous_client.get(f"/audit/events/{started['id']}", headers=officer)
    assert shown.status_code == 200
    assert shown.json()["content_level"] == "redacted"
    assert "mail" in shown.json()["content"]
    assert "jane@example.com" not in shown.text, "redacted content holds no raw PII"


async def test_another_tenants_officer_sees_none_of_it(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    await chat(anonymous_client, tokens, "acme", "hello")
    acme_ids = [
        event["id"] for event in (await events(anonymous_client, compliance(tokens)))["data"]
    ]
    tokens.add_tenant("globex", "support")
    await chat(anonymous_client, tokens, "globex", "hi there")
    outsider = compliance(tokens, "globex")

    seen = (await events(anonymous_client, outsider))["data"]
    assert seen, "globex's officer sees globex's own records"
    assert {event["tenant"] for event in seen} == {"globex"}
    assert not {event["id"] for event in seen} & set(acme_ids)
    for event_id in acme_ids:
        response = await anonymous_client.get(f"/audit/events/{event_id}", headers=outsider)
        assert response.status_code == 404, "another tenant's record is not even admitted to"
        page = await anonymous_client.get(f"/audit/ui/events/{event_id}", headers=outsider)
        assert page.status_code == 404
    asked = await anonymous_client.get("/audit/events?tenant=acme", headers=outsider)
    assert asked.status_code == 403
    assert asked.json()["error"]["type"] == "permission_error"
    assert (await events(anonymous_client, outsider, tenant="globex"))["data"] == seen


async def test_full_content_is_never_returned(
    anonymous_client: Client, tokens: TokenFactory, audit_trail: AuditTrail
) -> None:
    sealed = audit_trail.sealer.keep(
        "full", redacted=None, original="secret-plaintext", request_id="req-acme"
    )
    assert sealed.text is not None
    assert sealed.level == "full"
    event_id = await record(audit_trail, "acme", content=sealed)
    officer = compliance(tokens)

    (listed,) = (await events(anonymous_client, officer))["data"]
    shown = await anonymous_client.get(f"/audit/events/{event_id}", headers=officer)
    page = await anonymous_client.get(f"/audit/ui/events/{event_id}", headers=officer)
    for body, text in ((listed, str(listed)), (shown.json(), shown.text)):
        assert body["content_level"] == "full"
        assert body["content"] is None
        assert sealed.text not in text
    assert sealed.text not in page.text
    assert "encrypted; not shown" in page.text


async def test_verify_reports_only_the_callers_share_of_an_intact_trail(
    anonymous_client: Client, tokens: TokenFactory, audit_trail: AuditTrail
) -> None:
    await chat(anonymous_client, tokens, "acme", "hello")
    tokens.add_tenant("globex", "support")
    for _ in range(3):
        await chat(anonymous_client, tokens, "globex", "hi there")
    response = await anonymous_client.get("/audit/verify", headers=compliance(tokens))
    assert response.status_code == 200
    report = response.json()
    assert (report["ok"], report["tenant"], report["problem"]) == (True, "acme", None)
    assert report["records"] + report["unsigned"] == 2  # acme's started and completed
    assert "chains" not in report
    assert audit_trail.writer.chain_id not in response.text


async def test_web_page_lists_links_and_escapes_every_value(
    anonymous_client: Client, tokens: TokenFactory, audit_trail: AuditTrail
) -> None:
    event_id = await record(audit_trail, "acme", subject=SCRIPT, department="engineering")
    officer = compliance(tokens)

    page = await anonymous_client.get("/audit/ui", params={"subject": SCRIPT}, headers=officer)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert f'href="/audit/ui/events/{event_id}"' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text, "neither the record nor the refilled form is raw"
    assert "Trail verified" in page.text
    assert audit_trail.writer.chain_id not in page.text, "chain ids are for the CLI only"

    detail = await anonymous_client.get(f"/audit/ui/events/{event_id}", headers=officer)
    assert detail.status_code == 200
    assert "&lt;script&gt;" in detail.text
    assert "<script>" not in detail.text

    other = await anonymous_client.get("/audit/ui", params={"subject": "nobody"}, headers=officer)
    assert "No matching records" in other.text


async def test_login_cookie_is_strict_and_only_opens_the_web_pages(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    assert (await anonymous_client.get("/audit/ui/login")).status_code == 200
    token, _ = tokens.issue("acme", ("compliance",))
    response = await anonymous_client.post(
        "/audit/ui/login", data={"token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/audit/ui"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{AUDIT_UI_COOKIE}={token}")
    for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/audit/ui"):
        assert attribute.lower() in set_cookie.lower(), attribute

    cookie = {"cookie": f"{AUDIT_UI_COOKIE}={token}"}
    assert (await anonymous_client.get("/audit/ui", headers=cookie)).status_code == 200
    for path in ("/audit/events", "/audit/verify", "/v1/models"):
        refused = await anonymous_client.get(path, headers=cookie)
        assert refused.status_code == 401, f"the cookie must not authenticate {path}"

    app_token, _ = tokens.issue("acme", ("app",))
    wrong_role = await anonymous_client.post("/audit/ui/login", data={"token": app_token})
    assert wrong_role.status_code == 403
    assert "set-cookie" not in wrong_role.headers
    forged = await anonymous_client.post("/audit/ui/login", data={"token": "not-a-token"})
    assert forged.status_code == 401
    assert "set-cookie" not in forged.headers


@pytest.mark.parametrize("roles", [("app",), ("admin",), ("app", "admin")])
async def test_tokens_without_the_compliance_role_are_refused(
    anonymous_client: Client, tokens: TokenFactory, roles: tuple[str, ...]
) -> None:
    token, _ = tokens.issue("acme", roles)
    for path in ("/audit/events", "/audit/events/1", "/audit/verify", "/audit/ui"):
        response = await anonymous_client.get(path, headers=bearer(token))
        assert response.status_code == 403, path
        assert response.json()["error"]["type"] == "permission_error"
    assert (await anonymous_client.get("/audit/events")).status_code == 401


async def test_compliance_cannot_write(anonymous_client: Client, tokens: TokenFactory) -> None:
    officer = compliance(tokens)
    for method, path in [
        ("POST", "/audit/events"),
        ("DELETE", "/audit/events/1"),
        ("PUT", "/audit/events/1"),
        ("PATCH", "/audit/events/1"),
        ("POST", "/audit/verify"),
        ("DELETE", "/audit/ui/events/1"),
    ]:
        response = await anonymous_client.request(method, path, headers=officer, json={})
        assert response.status_code == 405, f"{method} {path}"


async def test_malformed_filters_are_400(anonymous_client: Client, tokens: TokenFactory) -> None:
    officer = compliance(tokens)
    for params in ({"since": "yesterday"}, {"status": "ok"}, {"limit": "0"}):
        response = await anonymous_client.get("/audit/events", params=params, headers=officer)
        assert response.status_code == 400, params


async def test_a_browser_without_a_login_is_sent_to_the_login_form(
    anonymous_client: Client,
) -> None:
    html = {"accept": "text/html,application/xhtml+xml"}
    for path in ("/audit/ui", "/audit/ui/events/1"):
        page = await anonymous_client.get(path, headers=html, follow_redirects=False)
        assert page.status_code == 303, path
        assert page.headers["location"] == "/audit/ui/login"
    stale = {**html, "cookie": f"{AUDIT_UI_COOKIE}=expired-or-forged"}
    page = await anonymous_client.get("/audit/ui", headers=stale, follow_redirects=False)
    assert page.headers["location"] == "/audit/ui/login"
    api = await anonymous_client.get("/audit/events", headers=html)
    assert api.status_code == 401  # the API answers programs: no redirect
    assert api.json()["error"]["type"] == "authentication_error"
