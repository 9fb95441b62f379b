"""Who may reach which route: tokens are checked on every route that is not public."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.auth.guards import PUBLIC_OPT_KEY
from gateway.services import Services
from gateway.settings import Settings
from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
CHAT = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": "hi"}]}
PUBLIC_ROUTES = {"/healthz", "/readyz", "/.well-known/jwks.json", "/audit/ui/login"}


async def test_every_route_is_public_by_name_or_guarded_by_a_role(
    settings: Settings, services: Services
) -> None:
    app = create_app(dataclasses.replace(settings, metrics_port=0), services)
    for route in app.routes:
        for handler in route.route_handlers:  # type: ignore[union-attr]
            if handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's automatic OPTIONS answer: no body, no data
            if handler.opt.get(PUBLIC_OPT_KEY):
                assert route.path in PUBLIC_ROUTES, f"{route.path} is public but not listed"
            else:
                names = [
                    getattr(guard, "func", guard).__name__ for guard in handler.resolve_guards()
                ]
                assert any(name.startswith("requires_") for name in names), route.path


async def test_no_token_is_401_in_openai_envelope(anonymous_client: Client) -> None:
    for method, path in [
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/completions"),
        ("GET", "/v1/models"),
    ]:
        response = await anonymous_client.request(method, path, json=CHAT)
        assert response.status_code == 401, path
        assert response.json()["error"]["type"] == "authentication_error"
        assert response.json()["error"]["code"] == "missing_token"


async def test_public_routes_need_no_token(anonymous_client: Client, tokens: TokenFactory) -> None:
    assert (await anonymous_client.get("/healthz")).status_code == 200
    assert (await anonymous_client.get("/readyz")).status_code == 200
    keys = (await anonymous_client.get("/.well-known/jwks.json")).json()["keys"]
    assert [key["kid"] for key in keys] == [tokens.kid]
    assert keys[0]["kty"] == "OKP"
    assert "d" not in keys[0], "the private part must never be published"


async def test_compliance_token_cannot_run_inference(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    token, _ = tokens.issue("acme", ("compliance",))
    response = await anonymous_client.post(
        "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"


async def test_revoked_token_refused_on_the_next_call(
    anonymous_client: Client, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    token, jti = tokens.issue("acme", ("app",))
    headers = {"authorization": f"Bearer {token}"}
    assert (
        await anonymous_client.post("/v1/chat/completions", json=CHAT, headers=headers)
    ).status_code == 200
    tokens.revoke(jti)
    response = await anonymous_client.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"
    assert len(echo_engine.started) == 1, "a refused request must never reach the engine"


async def test_suspended_tenant_refused(anonymous_client: Client, tokens: TokenFactory) -> None:
    token, _ = tokens.issue("globex", ("app",))
    tokens.suspend("globex")
    response = await anonymous_client.post(
        "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_suspended"


async def test_openapi_document_needs_a_token(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    refused = await anonymous_client.get("/openapi/openapi.json")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "missing_token"
    token, _ = tokens.issue("acme", ("app",))
    document = await anonymous_client.get(
        "/openapi/openapi.json", headers={"authorization": f"Bearer {token}"}
    )
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert "/v1/chat/completions" in paths
    body = paths["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]
    assert "messages" in body["schema"]["properties"], "the body schema comes from the decoder"
