"""Tables of the identity database: tenants, signing keys and the tokens issued with them.

The schema itself is owned by the Alembic migrations in ``migrations/versions``; these
models describe it for queries (and for ``alembic revision --autogenerate`` by developers).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.db.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so migrations (and SQLite batch mode) can refer to them."""

TENANT_STATUSES = ("active", "suspended")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Tenant(Base):
    """An organisation unit that holds tokens; suspended tenants' tokens are refused."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint("status IN ('active', 'suspended')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    department: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SigningKey(Base):
    """The public half of one of Enclave's token signing keys (the private half is a file)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(128), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    """The public key as a JSON Web Key (JSON text)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When a newer key took over signing; null for the active key."""
    verify_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """Tokens signed with a retired key verify until then; null means no limit."""


class IssuedToken(Base):
    """A token Enclave issued: the gateway refuses any of its own tokens without a row here."""

    __tablename__ = "issued_tokens"
    __table_args__ = (Index(None, "tenant_id"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    roles: Mapped[str] = mapped_column(String(64))
    """Space-separated role names, sorted."""
    kid: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


import gateway.db.models_audit  # noqa: E402, F401  # the audit tables join Base.metadata
