"""The gateway's Prometheus metrics: one registry, built at start-up and injected.

``GatewayMetrics`` owns a private ``CollectorRegistry`` (never prometheus_client's
global one) and every metric object. The request path calls its small verb-named
methods; ``/metrics`` calls ``render()``. Every label value goes through
``gateway.metrics.labels`` first, so no PII, token material or unbounded value can
become a series. No method raises on a bad value: metrics never break a request.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from gateway.metrics.engine_collector import EngineStateCollector, StatsSource
from gateway.metrics.labels import (
    COMPONENT_PATTERN,
    BoundedLabel,
    EntityTypeLabels,
    RouteLabels,
    TenantLabels,
    choice_label,
    status_label,
)

LATENCY_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
"""Seconds, log-spaced from 0.5 ms (gateway overhead, GPU first tokens) to 5 minutes
(long completions on the CPU engine): one set of buckets serves both engines."""
BATCH_SIZE_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
"""Audit records per group commit."""

RATE_LIMIT_KINDS: Final = frozenset(
    {"requests", "tokens", "concurrency", "burst", "store_unavailable"}
)
PII_ACTIONS: Final = frozenset({"redact", "pseudonymize", "block", "allow"})
PII_DIRECTIONS: Final = frozenset({"input", "output"})


class GatewayMetrics:
    """Every gateway metric, in its own registry; the methods are what the gateway calls."""

    def __init__(self, *, max_tenants: int = 50) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._routes = RouteLabels()
        self._tenants = TenantLabels(max_tenants)
        self._departments = TenantLabels(max_tenants)
        self._entity_types = EntityTypeLabels()
        self._components = BoundedLabel(COMPONENT_PATTERN, max_values=16)
        self._build_request_metrics()
        self._build_guard_metrics()
        self._build_audit_metrics()
        self._build_engine_metrics()

    def observe_request(
        self,
        route: str,
        status: int,
        tenant: str,
        department: str,
        gateway_seconds: float,
        engine_seconds: float | None,
    ) -> None:
        """One finished request. ``route`` is the route template (Litestar's
        ``scope["path_template"]``), never the raw path. ``gateway_seconds`` is the
        gateway's own share of the wall time (auth, policy, limits, redaction, audit,
        rendering); ``engine_seconds`` the engine's share, None when the request never
        reached the engine (refused, invalid). Unauthenticated requests pass ``""`` as
        tenant and department (exported as ``invalid``)."""
        route_label = self._routes(route)
        self._requests.labels(
            route_label, status_label(status), self._tenants(tenant), self._departments(department)
        ).inc()
        self._gateway_seconds.labels(route_label).observe(max(0.0, gateway_seconds))
        if engine_seconds is not None:
            self._engine_seconds.labels(route_label).observe(max(0.0, engine_seconds))

    def observe_first_token(self, route: str, seconds: float) -> None:
        """Time from the request's arrival to its first generated token."""
        self._first_token_seconds.labels(self._routes(route)).observe(max(0.0, seconds))

    def count_tokens(self, tenant: str, department: str, prompt: int, completion: int) -> None:
        """Prompt and completion tokens one request consumed."""
        tenant_label, department_label = self._tenants(tenant), self._departments(department)
        self._prompt_tokens.labels(tenant_label, department_label).inc(max(0, prompt))
        self._completion_tokens.labels(tenant_label, department_label).inc(max(0, completion))

    def count_rate_limit_refusal(self, kind: str) -> None:
        """One refusal: ``requests``, ``tokens``, ``concurrency``, ``burst`` or
        ``store_unavailable`` (the shared store could not decide: 503)."""
        self._rate_limit_refusals.labels(choice_label(kind, RATE_LIMIT_KINDS)).inc()

    def count_pii(self, entity_type: str, action: str, direction: str, count: int = 1) -> None:
        """``count`` detections of ``entity_type`` (``EMAIL_ADDRESS``) handled with
        ``action`` (redact, pseudonymize, block, allow) on ``direction`` (input, output)."""
        self._pii_detections.labels(
            self._entity_types(entity_type),
            choice_label(action, PII_ACTIONS),
            choice_label(direction, PII_DIRECTIONS),
        ).inc(max(0, count))

    def set_audit_queue_depth(self, depth: int) -> None:
        """Records waiting for the audit writer's next group commit."""
        self._audit_queue_depth.set(max(0, depth))

    def observe_audit_commit(self, seconds: float, batch_size: int) -> None:
        """One successful group commit of ``batch_size`` records."""
        self._audit_commit_seconds.observe(max(0.0, seconds))
        self._audit_commit_batch_size.observe(max(0, batch_size))

    def count_audit_failure(self) -> None:
        """One failed audit write (the affected requests were refused or failed)."""
        self._audit_failures.inc()

    def watch_engine(self, stats: StatsSource) -> None:
        """Export the engine's scheduler state (running, waiting, KV-cache usage), read from
        ``stats`` (``Engine.stats``) on every scrape."""
        self._engine_state.attach(stats)

    def set_ready(self, component: str, ready: bool) -> None:
        """Whether ``component`` (engine, database, audit_writer, rate_limit_store, ...)
        can serve; the same facts ``/readyz`` reports."""
        self._ready.labels(self._components(component)).set(1 if ready else 0)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition body and its content type: Prometheus text format, or
        OpenMetrics when the scraper's ``Accept`` header asks for it."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def _build_request_metrics(self) -> None:
        self._requests = Counter(
            "enclave_http_requests",
            "Finished HTTP requests by route template, status code, tenant and department.",
            ["route", "status", "tenant", "department"],
            registry=self.registry,
        )
        self._gateway_seconds = self._latency(
            "enclave_request_gateway_seconds",
            "Gateway's own time per request (wall time minus engine time).",
        )
        self._engine_seconds = self._latency(
            "enclave_request_engine_seconds",
            "Engine time per request, from hand-over to the last token.",
        )
        self._first_token_seconds = self._latency(
            "enclave_time_to_first_token_seconds",
            "Time from a request's arrival to its first generated token.",
        )
        self._prompt_tokens = self._token_counter("enclave_prompt_tokens", "Prompt tokens.")
        self._completion_tokens = self._token_counter(
            "enclave_completion_tokens", "Completion tokens."
        )

    def _build_guard_metrics(self) -> None:
        self._rate_limit_refusals = Counter(
            "enclave_rate_limit_refusals",
            "Requests refused by the rate limiter, by the kind of limit (or store outage).",
            ["kind"],
            registry=self.registry,
        )
        self._pii_detections = Counter(
            "enclave_pii_detections",
            "PII entities detected, by entity type, the action taken and the direction.",
            ["entity_type", "action", "direction"],
            registry=self.registry,
        )
        self._ready = Gauge(
            "enclave_ready",
            "1 when the component can serve, 0 when it cannot.",
            ["component"],
            registry=self.registry,
        )

    def _build_audit_metrics(self) -> None:
        self._audit_queue_depth = Gauge(
            "enclave_audit_queue_depth",
            "Audit records waiting for the writer's next group commit.",
            registry=self.registry,
        )
        self._audit_commit_seconds = Histogram(
            "enclave_audit_commit_seconds",
            "Duration of one audit group commit.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._audit_commit_batch_size = Histogram(
            "enclave_audit_commit_batch_size",
            "Audit records per group commit.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=self.registry,
        )
        self._audit_failures = Counter(
            "enclave_audit_write_failures",
            "Failed audit writes.",
            registry=self.registry,
        )

    def _build_engine_metrics(self) -> None:
        self._engine_state = EngineStateCollector()
        self.registry.register(self._engine_state)

    def _latency(self, name: str, documentation: str) -> Histogram:
        return Histogram(
            name, documentation, ["route"], buckets=LATENCY_BUCKETS, registry=self.registry
        )

    def _token_counter(self, name: str, documentation: str) -> Counter:
        return Counter(name, documentation, ["tenant", "department"], registry=self.registry)
