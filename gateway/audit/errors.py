"""Why an audit record could not be written: the request it belongs to is refused (503)."""

from __future__ import annotations

from gateway.errors import ServiceUnavailableError


class AuditUnavailableError(ServiceUnavailableError):
    """The audit store cannot make a record durable, so the request may not proceed."""

    default_code = "audit_unavailable"
