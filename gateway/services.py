"""The shared objects the gateway is built from: made once at start-up, handed to the app."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from engine.protocol import Engine
from gateway.audit.setup import AuditTrail
from gateway.auth.directory import IdentityDirectory
from gateway.metrics.registry import GatewayMetrics
from gateway.policy.store import PolicyStore
from gateway.ratelimit.limiter import RateLimiter
from gateway.redaction.analyzer import PiiAnalyzer
from gateway.shutdown import Drain


@dataclass(frozen=True, slots=True)
class Services:
    engine: Engine
    """The inference engine (vLLM in production)."""
    directory: IdentityDirectory
    """Keys, tokens and tenants for authentication."""
    sessions: sessionmaker[Session]
    """Database sessions (admin API, readiness)."""
    policies: PolicyStore
    """The per-department policies, hot-reloaded."""
    limiter: RateLimiter
    """Quotas, in memory or shared through Redis."""
    metrics: GatewayMetrics
    """Prometheus metrics of this process."""
    analyzer: PiiAnalyzer
    """Presidio, offline, with Enclave's recognizers (built once: it takes seconds)."""
    audit: AuditTrail
    """The hash-chained audit writer and the content sealer."""
    drain: Drain = field(default_factory=Drain)
    """Shutdown state: begun by SIGTERM, ends running requests after the grace period."""
