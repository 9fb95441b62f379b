"""Tables of the audit trail: hash-chained events, signed checkpoints and the chain registry.

``audit_events`` is append-only: a request's outcome is a second event with the same
``request_id``, never an update. Each writer (one per gateway process) appends to its own
chain (``chain_id``), numbered gaplessly by ``seq``, each row holding the previous row's
hash. ``audit_checkpoints`` holds Ed25519 signatures over chain heads. ``audit_chains`` is
operational bookkeeping (liveness, clean close); verification never trusts it alone.

The schema itself is owned by ``migrations/versions/0002_audit.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.models import Base
from gateway.db.types import UtcDateTime

EVENT_KINDS = ("opened", "started", "completed", "failed", "refused", "incomplete", "tombstone")
"""Every kind of audit event, as the check constraint lists them."""

EVENT_KIND_CHECK = "kind IN ('" + "', '".join(EVENT_KINDS) + "')"

EventId = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite's rowid alias must be spelled INTEGER."""


class AuditEventRow(Base):
    """One audit event; ``hash`` is SHA-256 over the canonical form of every other column but id."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain_id", "seq"),
        CheckConstraint(EVENT_KIND_CHECK, name="kind"),
        Index(None, "request_id"),
        Index(None, "occurred_at"),
        Index(None, "tenant", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    chain_id: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger)
    """Position in the chain, from 1, without gaps."""
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    tenant: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[str | None] = mapped_column(String(255))
    """Space-separated role names, sorted."""
    client_address: Mapped[str | None] = mapped_column(String(128))
    route: Mapped[str | None] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(255))
    decision: Mapped[str | None] = mapped_column(String(16))
    """``allowed`` or ``refused``."""
    reasons: Mapped[str | None] = mapped_column(Text)
    """JSON list of strings (canonical JSON)."""
    status: Mapped[int | None] = mapped_column(Integer)
    """HTTP status of the response."""
    entity_counts: Mapped[str | None] = mapped_column(Text)
    """JSON object entity type → count (never values)."""
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    gateway_us: Mapped[int | None] = mapped_column(BigInteger)
    """Time spent in the gateway's own gates, in microseconds (engine time excluded)."""
    engine_us: Mapped[int | None] = mapped_column(BigInteger)
    """Time spent in the engine, in microseconds."""
    content_level: Mapped[str] = mapped_column(String(16))
    """``none``, ``redacted``, ``full`` (encrypted) or ``withheld`` (full asked, no key)."""
    content: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    """JSON object with kind-specific facts (an opening's chain heads, a tombstone's range)."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpointRow(Base):
    """An Ed25519 signature over a chain's head at ``seq``; also appended to the anchor."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index(None, "chain_id", "seq"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    chain_id: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    final: Mapped[bool] = mapped_column(Boolean)
    """True for the checkpoint a writer signs when it closes its chain: nothing may follow."""
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    """Base64 of the 64-byte Ed25519 signature over the checkpoint's canonical form."""
    statement: Mapped[str] = mapped_column(String(16), server_default="checkpoint")
    """``open``, ``checkpoint``, ``close`` or ``recovered`` (see ``gateway.audit.signing``)."""
    previous: Mapped[str] = mapped_column(String(64), server_default="")
    """Digest of the chain's previous statement ("" for ``open``): statements are linked."""


class AuditChainRow(Base):
    """One writer's chain: who writes it, whether it is alive, closed or settled after a crash."""

    __tablename__ = "audit_chains"

    chain_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime())
    """Refreshed by the live writer; a stale heartbeat marks a chain whose writer died."""
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """Set when the writer stopped cleanly (after its final checkpoint)."""
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """Set when another writer marked this dead chain's unfinished requests incomplete."""
