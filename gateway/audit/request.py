"""The events of one request, stamped with who asked, from where, by which route and model.

Build a ``RequestAudit`` once the caller is known (or without a principal for refusals
before authentication), then ``started`` before the engine and one outcome after it::

    audit = RequestAudit.of(request_id, route, client, principal, model)
    await writer.append(audit.started(entity_counts=..., content=...))
    ...
    await writer.append(audit.completed(prompt_tokens=..., completion_tokens=..., ...))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.audit.events import NO_CONTENT, AuditEvent, EventKind, StoredContent
from gateway.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class RequestAudit:
    """Who, where and what for one request: copied into each of its events."""

    request_id: str
    route: str
    client_address: str | None = None
    tenant: str | None = None
    subject: str | None = None
    department: str | None = None
    roles: tuple[str, ...] = ()
    model: str | None = None

    @classmethod
    def of(
        cls,
        request_id: str,
        route: str,
        client_address: str | None,
        principal: Principal | None,
        model: str | None = None,
    ) -> RequestAudit:
        if principal is None:
            return cls(request_id, route, client_address, model=model)
        return cls(
            request_id=request_id,
            route=route,
            client_address=client_address,
            tenant=principal.tenant,
            subject=principal.subject,
            department=principal.department,
            roles=tuple(sorted(principal.roles)),
            model=model,
        )

    def started(
        self,
        *,
        entity_counts: Mapping[str, int] | None = None,
        prompt_tokens: int | None = None,
        gateway_us: int | None = None,
        content: StoredContent = NO_CONTENT,
    ) -> AuditEvent:
        """Allowed, about to reach the engine (``content``: the prompt as the policy keeps it)."""
        return self._event(
            "started",
            decision="allowed",
            entity_counts=dict(entity_counts or {}),
            prompt_tokens=prompt_tokens,
            gateway_us=gateway_us,
            content=content,
        )

    def completed(
        self,
        *,
        status: int = 200,
        entity_counts: Mapping[str, int] | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        gateway_us: int | None = None,
        engine_us: int | None = None,
        content: StoredContent = NO_CONTENT,
        detail: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Answered (``content``: the completion as the policy keeps it; ``detail``: facts
        such as ``{"cache": "hit"}`` for an answer served from the response cache)."""
        return self._event(
            "completed",
            decision="allowed",
            status=status,
            entity_counts=dict(entity_counts or {}),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            gateway_us=gateway_us,
            engine_us=engine_us,
            content=content,
            detail=detail,
        )

    def failed(
        self,
        *,
        status: int,
        reasons: tuple[str, ...],
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        gateway_us: int | None = None,
        engine_us: int | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Allowed and started, but not finished (engine error, client gone, output blocked)."""
        return self._event(
            "failed",
            decision="allowed",
            status=status,
            reasons=reasons,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            gateway_us=gateway_us,
            engine_us=engine_us,
            detail=detail,
        )

    def refused(
        self,
        *,
        status: int,
        reasons: tuple[str, ...],
        entity_counts: Mapping[str, int] | None = None,
        gateway_us: int | None = None,
    ) -> AuditEvent:
        """Refused before the engine (authentication, policy, rate limit, personal data)."""
        return self._event(
            "refused",
            decision="refused",
            status=status,
            reasons=reasons,
            entity_counts=dict(entity_counts or {}),
            gateway_us=gateway_us,
        )

    def _event(self, kind: EventKind, **fields: Any) -> AuditEvent:
        return AuditEvent(
            kind=kind,
            request_id=self.request_id,
            tenant=self.tenant,
            subject=self.subject,
            department=self.department,
            roles=self.roles,
            client_address=self.client_address,
            route=self.route,
            model=self.model,
            **fields,
        )
