"""Build the Litestar application: routes, error rendering, shared objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware

from engine.config import EngineConfig
from gateway.api import admin, audit_ui, health, keys, openai
from gateway.api import audit as audit_api
from gateway.api.error_handlers import (
    handle_gateway_error,
    handle_http_exception,
    handle_unexpected,
)
from gateway.api.middleware import request_context, stamp_responses
from gateway.api.openapi import openapi_config
from gateway.audit_gate import AuditGate
from gateway.auth.client_cert import ConnectionAuthenticator
from gateway.auth.directory import IdentityDirectory
from gateway.auth.guards import PUBLIC_OPT_KEY
from gateway.auth.middleware import BearerTokenMiddleware
from gateway.auth.oidc import OidcIssuer, load_trusted_issuers
from gateway.auth.principal import ADMIN_ROLE
from gateway.auth.verify import TokenVerifier
from gateway.cache.gate import open_response_cache
from gateway.errors import ConfigurationError, GatewayError
from gateway.metrics.endpoint import metrics_route
from gateway.metrics.registry import GatewayMetrics
from gateway.pii_gate import PiiGate
from gateway.pipeline import Pipeline
from gateway.readiness import ReadinessProbe
from gateway.services import Services
from gateway.settings import Settings
from gateway.transport.body_deadline import body_deadline

log = structlog.get_logger("enclave.app")


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        model=settings.model,
        served_model_name=settings.model_name,
        dtype=settings.dtype,
        max_model_len=settings.max_model_len,
        tensor_parallel_size=settings.tensor_parallel_size,
        gpu_memory_utilization=settings.gpu_memory_utilization,
        cpu_kvcache_space_gib=settings.cpu_kvcache_space_gib,
        enforce_eager=settings.enforce_eager,
        seed=settings.seed,
        load_format=settings.load_format,
    )


def trusted_issuers(settings: Settings, directory: IdentityDirectory) -> dict[str, OidcIssuer]:
    """External OIDC issuers from ``ENCLAVE_TRUSTED_ISSUERS_FILE`` (none when unset)."""
    if settings.trusted_issuers_file is None:
        return {}
    external = load_trusted_issuers(settings.trusted_issuers_file, directory)
    if settings.jwt_issuer in external:
        raise ConfigurationError(
            f"{settings.trusted_issuers_file}: issuer {settings.jwt_issuer!r} is Enclave's own"
        )
    return external


def _metrics_on_https(settings: Settings, metrics: GatewayMetrics) -> list[HTTPRouteHandler]:
    """``/metrics`` on the gateway's own port, for admins, when no separate port is set."""
    if settings.metrics_port != 0:
        return []
    return [metrics_route(metrics, required_role=ADMIN_ROLE)]


def create_app(settings: Settings, services: Services) -> Litestar:
    """The gateway around services already built; the app stops them on exit."""
    engine, directory, sessions = services.engine, services.directory, services.sessions
    policies, limiter, metrics = services.policies, services.limiter, services.metrics
    metrics.watch_engine(engine.stats)
    pii = PiiGate(services.analyzer, metrics)
    audit = AuditGate(services.audit, metrics)
    cache = open_response_cache(settings, metrics.registry)
    pipeline = Pipeline(engine, policies, limiter, metrics, pii, audit, cache)
    readiness = ReadinessProbe(engine, sessions, limiter, policies)
    pipeline.end_requests_on(services.drain)
    verifier = TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        directory=directory,
        external=trusted_issuers(settings, directory),
    )
    authenticator = ConnectionAuthenticator(
        verifier, directory, mutual_tls=settings.client_ca_file is not None
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await policies.start()
        await services.audit.writer.start()
        log.info("gateway ready", models=[model.name for model in engine.models()])
        try:
            yield
        finally:
            await services.audit.writer.stop()
            await policies.stop()
            await limiter.close()
            await cache.close()
            await engine.shutdown()
            log.info("engine stopped")

    return Litestar(
        route_handlers=[
            openai.chat_completions,
            openai.completions,
            openai.list_models,
            health.healthz,
            health.readyz,
            keys.jwks,
            admin.admin_router,
            audit_api.audit_router,
            audit_ui.login_router,
            *_metrics_on_https(settings, metrics),
        ],
        dependencies={
            "pipeline": Provide(lambda: pipeline, use_cache=True, sync_to_thread=False),
            "engine": Provide(lambda: engine, use_cache=True, sync_to_thread=False),
            "directory": Provide(lambda: directory, use_cache=True, sync_to_thread=False),
            "sessions": Provide(lambda: sessions, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "readiness": Provide(lambda: readiness, use_cache=True, sync_to_thread=False),
            "audit_config": Provide(
                lambda: services.audit.config, use_cache=True, sync_to_thread=False
            ),
            "audit_verifier": Provide(
                lambda: services.audit.verifier, use_cache=True, sync_to_thread=False
            ),
        },
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        middleware=[
            body_deadline(settings.body_timeout_seconds),
            request_context(metrics),
            DefineMiddleware(BearerTokenMiddleware, exclude_from_auth_key=PUBLIC_OPT_KEY),
        ],
        lifespan=[lifespan],
        before_send=[stamp_responses(audit)],
        state=State(
            {
                "settings": settings,
                "verifier": verifier,
                "authenticator": authenticator,
                "readiness": readiness,
            }
        ),
        request_max_body_size=settings.max_request_bytes,
        openapi_config=openapi_config(),
        debug=False,
    )
