"""The audit steps of the request path: a durable record before the engine, one after it.

Refusals (authentication, policy, rate limit, personal data) are recorded by the request
middleware through ``record_refusal``; allowed requests get ``started`` before the engine
sees them and ``completed`` or ``failed`` before the answer is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import structlog
from litestar.types import Scope

from gateway.audit.errors import AuditUnavailableError
from gateway.audit.request import RequestAudit
from gateway.audit.setup import AuditTrail
from gateway.auth.principal import Principal
from gateway.metrics.registry import GatewayMetrics
from gateway.policy.schema import AuditContent
from gateway.redaction.screened import ScreenedOutput
from gateway.timings import RequestTimings
from gateway.usage import UsageTally

AUDITED_KEY = "audited"
REFUSAL_KEY = "refusal"
AUDITED_PREFIXES = ("/v1/", "/admin/")

log = structlog.get_logger("enclave.audit")


def microseconds(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1_000_000)


class AuditGate:
    def __init__(self, trail: AuditTrail, metrics: GatewayMetrics) -> None:
        self._trail = trail
        self._metrics = metrics

    def record_for(
        self, scope: Scope, route: str, principal: Principal | None, model: str | None
    ) -> RequestAudit:
        client = scope.get("client")
        address = client[0] if client else None
        request_id = str(scope.get("state", {}).get("request_id", ""))
        return RequestAudit.of(request_id, route, address, principal, model)

    async def started(
        self,
        record: RequestAudit,
        *,
        level: AuditContent,
        redacted: Sequence[str],
        original: Sequence[str],
        entity_counts: dict[str, int],
        prompt_tokens: int,
        timings: RequestTimings,
        scope: Scope,
    ) -> None:
        """Durable before the engine sees anything; 503 (``audit_unavailable``) if it cannot be."""
        content = self._trail.sealer.keep(
            level,
            redacted="\n\n".join(redacted),
            original="\n\n".join(original),
            request_id=record.request_id,
        )
        event = record.started(
            entity_counts=entity_counts,
            prompt_tokens=prompt_tokens,
            content=content,
            gateway_us=microseconds(timings.elapsed()),
        )
        await self._append(event)
        scope.setdefault("state", {})[AUDITED_KEY] = True

    async def finished(
        self,
        record: RequestAudit,
        *,
        level: AuditContent,
        tally: UsageTally,
        filters: Sequence[ScreenedOutput],
        delivered: str,
        timings: RequestTimings,
        failure: tuple[int, str] | None,
        cache: str | None = None,
    ) -> None:
        """``completed`` (or ``failed``) made durable before the answer is acknowledged.

        ``cache`` (``hit`` or ``miss``) is noted in the record's detail for requests the
        response cache handled; a hit spent no engine time (``engine_us`` 0).
        """
        engine_us = 0 if cache == "hit" else microseconds(timings.engine_seconds())
        gateway_us = microseconds(max(timings.elapsed() - (timings.engine_seconds() or 0.0), 0.0))
        detail = None if cache is None else {"cache": cache}
        if failure is not None:
            status, reason = failure
            event = record.failed(
                status=status,
                reasons=(reason,),
                prompt_tokens=tally.prompt_tokens,
                completion_tokens=tally.completion_tokens,
                gateway_us=gateway_us,
                engine_us=engine_us,
                detail=detail,
            )
        else:
            redacted = "\n\n".join(output.redacted_text for output in filters)
            content = self._trail.sealer.keep(
                level,
                redacted=redacted,
                original=delivered,
                request_id=record.request_id,
            )
            counts: dict[str, int] = {}
            for output in filters:
                for entity, count in output.entity_counts.items():
                    counts[entity] = counts.get(entity, 0) + count
            event = record.completed(
                entity_counts=counts,
                prompt_tokens=tally.prompt_tokens,
                completion_tokens=tally.completion_tokens,
                gateway_us=gateway_us,
                engine_us=engine_us,
                content=content,
                detail=detail,
            )
        with anyio.CancelScope(shield=True):
            await self._append(event)

    async def record_refusal(self, scope: Scope, status: int) -> None:
        """A refused request's record (before its error response goes out); never raises."""
        state = scope.setdefault("state", {})
        path = str(scope.get("path", ""))
        if state.get(AUDITED_KEY) or not path.startswith(AUDITED_PREFIXES):
            return
        state[AUDITED_KEY] = True
        code, entity_counts = state.get(REFUSAL_KEY, (f"http_{status}", {}))
        principal = scope.get("user")
        route = str(scope.get("path_template") or path)
        record = self.record_for(
            scope, route, principal if isinstance(principal, Principal) else None, None
        )
        try:
            with anyio.CancelScope(shield=True):
                await self._append(
                    record.refused(status=status, reasons=(code,), entity_counts=entity_counts)
                )
        except AuditUnavailableError:
            log.error("refusal not audited: the audit store is unavailable", status=status)

    async def _append(self, event: object) -> None:
        try:
            await self._trail.writer.append(event)  # type: ignore[arg-type]
        except AuditUnavailableError:
            self._metrics.count_audit_failure()
            raise
