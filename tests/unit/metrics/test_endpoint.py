"""Serving /metrics: on the gateway's port for one role, or on a separate port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Request, Response
from litestar.middleware import AbstractMiddleware
from litestar.testing import TestClient, create_test_client
from litestar.types import Receive, Scope, Send

from gateway.auth.principal import Principal
from gateway.errors import GatewayError
from gateway.metrics.endpoint import metrics_app, metrics_route
from gateway.metrics.registry import GatewayMetrics

pytestmark = pytest.mark.anyio


class RolesFromHeader(AbstractMiddleware):
    """Stands in for JWT authentication: ``x-roles: admin`` authenticates with that role."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        roles = dict(scope["headers"]).get(b"x-roles")
        if roles is not None:
            scope["user"] = Principal(
                tenant="ops",
                department="platform",
                subject="prometheus",
                roles=frozenset(roles.decode().split(",")),
                token_id=None,
                issuer="enclave",
            )
        await self.app(scope, receive, send)


def render_gateway_error(_: Request[Any, Any, Any], exc: GatewayError) -> Response[Any]:
    return Response(exc.to_body(), status_code=exc.status_code)


@pytest.fixture
def metrics() -> GatewayMetrics:
    metrics = GatewayMetrics()
    metrics.count_rate_limit_refusal("tokens")
    return metrics


@pytest.fixture
def client(metrics: GatewayMetrics) -> Iterator[TestClient[Any]]:
    with create_test_client(
        route_handlers=[metrics_route(metrics, required_role="admin")],
        middleware=[RolesFromHeader],
        exception_handlers={GatewayError: render_gateway_error},
    ) as client:
        yield client


def test_the_role_holder_scrapes_metrics_on_the_gateway_port(client: TestClient[Any]) -> None:
    response = client.get("/metrics", headers={"x-roles": "admin"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'enclave_rate_limit_refusals_total{kind="tokens"} 1.0' in response.text


def test_other_roles_and_anonymous_callers_are_refused(client: TestClient[Any]) -> None:
    assert client.get("/metrics", headers={"x-roles": "app"}).status_code == 403
    assert client.get("/metrics").status_code == 401


async def test_the_separate_port_app_serves_metrics_only(metrics: GatewayMetrics) -> None:
    transport = httpx.ASGITransport(app=metrics_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as scraper:
        scraped = await scraper.get("/metrics")
        openmetrics = await scraper.get(
            "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
        )
        elsewhere = await scraper.get("/v1/models")
        posted = await scraper.post("/metrics")
    assert scraped.status_code == 200
    assert 'enclave_rate_limit_refusals_total{kind="tokens"} 1.0' in scraped.text
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert elsewhere.status_code == 404
    assert posted.status_code == 405


async def test_the_separate_port_app_completes_the_lifespan(metrics: GatewayMetrics) -> None:
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await metrics_app(metrics)({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
