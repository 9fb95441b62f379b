"""Build the Litestar application: routes, error rendering, shared objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from sqlalchemy.orm import Session, sessionmaker

from engine.config import EngineConfig
from engine.protocol import Engine
from gateway.api import admin, health, keys, openai
from gateway.api.error_handlers import (
    handle_gateway_error,
    handle_http_exception,
    handle_unexpected,
)
from gateway.api.middleware import request_context_middleware
from gateway.auth.directory import IdentityDirectory
from gateway.auth.guards import PUBLIC_OPT_KEY
from gateway.auth.middleware import BearerTokenMiddleware
from gateway.auth.oidc import OidcIssuer, load_trusted_issuers
from gateway.auth.verify import TokenVerifier
from gateway.errors import ConfigurationError, GatewayError
from gateway.pipeline import Pipeline
from gateway.policy.store import PolicyStore
from gateway.ratelimit.limiter import RateLimiter
from gateway.readiness import ReadinessProbe
from gateway.settings import Settings

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


def create_app(
    settings: Settings,
    engine: Engine,
    directory: IdentityDirectory,
    sessions: sessionmaker[Session],
    policies: PolicyStore,
    limiter: RateLimiter,
) -> Litestar:
    """The gateway around an engine that is already started; the app shuts it down on exit."""
    pipeline = Pipeline(engine, policies, limiter)
    readiness = ReadinessProbe(engine, sessions, limiter, policies)
    verifier = TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        directory=directory,
        external=trusted_issuers(settings, directory),
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await policies.start()
        log.info("gateway ready", models=[model.name for model in engine.models()])
        try:
            yield
        finally:
            await policies.stop()
            await limiter.close()
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
        ],
        dependencies={
            "pipeline": Provide(lambda: pipeline, use_cache=True, sync_to_thread=False),
            "engine": Provide(lambda: engine, use_cache=True, sync_to_thread=False),
            "directory": Provide(lambda: directory, use_cache=True, sync_to_thread=False),
            "sessions": Provide(lambda: sessions, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "readiness": Provide(lambda: readiness, use_cache=True, sync_to_thread=False),
        },
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        middleware=[
            request_context_middleware,
            DefineMiddleware(BearerTokenMiddleware, exclude_from_auth_key=PUBLIC_OPT_KEY),
        ],
        lifespan=[lifespan],
        state=State({"settings": settings, "verifier": verifier, "readiness": readiness}),
        request_max_body_size=settings.max_request_bytes,
        openapi_config=None,
        debug=False,
    )
