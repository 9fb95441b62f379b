"""Audit: linked signed statements (open, checkpoint, close, recovered) in audit_checkpoints.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.add_column(
            sa.Column("statement", sa.String(16), nullable=False, server_default="checkpoint")
        )
        batch.add_column(sa.Column("previous", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.drop_column("previous")
        batch.drop_column("statement")
