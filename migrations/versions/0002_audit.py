"""Audit: hash-chained events, signed checkpoints, the chain registry.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_KIND_CHECK = (
    "kind IN ('opened', 'started', 'completed', 'failed', 'refused', 'incomplete', 'tombstone')"
)


def _id_column() -> sa.Column[int]:
    id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.Column("id", id_type, autoincrement=True, nullable=False)


def upgrade() -> None:
    _create_events()
    op.create_table(
        "audit_checkpoints",
        _id_column(),
        sa.Column("chain_id", sa.String(128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index(
        op.f("ix_audit_checkpoints_chain_id_seq"), "audit_checkpoints", ["chain_id", "seq"]
    )
    op.create_table(
        "audit_chains",
        sa.Column("chain_id", sa.String(128), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_audit_chains")),
    )


def _create_events() -> None:
    text_columns = [
        sa.Column(name, sa.String(length), nullable=True)
        for name, length in (
            ("request_id", 128),
            ("tenant", 255),
            ("subject", 255),
            ("department", 255),
            ("roles", 255),
            ("client_address", 128),
            ("route", 255),
            ("model", 255),
            ("decision", 16),
        )
    ]
    op.create_table(
        "audit_events",
        _id_column(),
        sa.Column("chain_id", sa.String(128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        *text_columns,
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("entity_counts", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("gateway_us", sa.BigInteger(), nullable=True),
        sa.Column("engine_us", sa.BigInteger(), nullable=True),
        sa.Column("content_level", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("chain_id", "seq", name=op.f("uq_audit_events_chain_id_seq")),
        sa.CheckConstraint(EVENT_KIND_CHECK, name=op.f("ck_audit_events_kind")),
    )
    op.create_index(op.f("ix_audit_events_request_id"), "audit_events", ["request_id"])
    op.create_index(op.f("ix_audit_events_occurred_at"), "audit_events", ["occurred_at"])
    op.create_index(
        op.f("ix_audit_events_tenant_occurred_at"), "audit_events", ["tenant", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_table("audit_chains")
    op.drop_index("ix_audit_checkpoints_chain_id_seq", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_events_tenant_occurred_at", table_name="audit_events")
    op.drop_index("ix_audit_events_occurred_at", table_name="audit_events")
    op.drop_index("ix_audit_events_request_id", table_name="audit_events")
    op.drop_table("audit_events")
