"""Signing-key rows: the public halves of Enclave's token signing keys and their lifetimes.

Key generation and the private halves belong to ``gateway.auth.signing``; rotation that
ties both together is ``gateway.identity.issuing.rotate_signing_key``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db.models import SigningKey
from gateway.errors import ConflictError, InvalidRequestError
from gateway.identity.clock import checked_now, require_aware

PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})
"""JWK members that carry private key material: never stored in the database."""


class KeyLifecycle(StrEnum):
    ACTIVE = "active"
    """Signs new tokens (and verifies)."""
    RETIRED = "retired"
    """Replaced by a newer key; still verifies the tokens it signed until ``verify_until``."""
    EXPIRED = "expired"
    """Verifies nothing any more."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: str
    algorithm: str
    public_jwk: dict[str, str]
    created_at: datetime
    retired_at: datetime | None
    verify_until: datetime | None

    def verifies_at(self, now: datetime) -> bool:
        return self.verify_until is None or now < self.verify_until

    def lifecycle(self, now: datetime) -> KeyLifecycle:
        if not self.verifies_at(now):
            return KeyLifecycle.EXPIRED
        return KeyLifecycle.ACTIVE if self.retired_at is None else KeyLifecycle.RETIRED


def record_signing_key(
    session: Session,
    kid: str,
    algorithm: str,
    public_jwk: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> KeyInfo:
    """Store a new active key's public half; refuses JWKs carrying private members."""
    private = sorted(PRIVATE_JWK_MEMBERS & set(public_jwk))
    if private:
        raise InvalidRequestError(f"refusing to store private JWK members {', '.join(private)}")
    if session.get(SigningKey, kid) is not None:
        raise _duplicate(kid)
    row = SigningKey(
        kid=kid,
        algorithm=algorithm,
        public_jwk=json.dumps(dict(public_jwk), sort_keys=True),
        created_at=checked_now(now),
        retired_at=None,
        verify_until=None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _duplicate(kid) from exc
    return _key_info(row)


def retire_active_keys(
    session: Session, verify_until: datetime, *, now: datetime | None = None
) -> tuple[KeyInfo, ...]:
    """Stop signing with the active key(s); they keep verifying until ``verify_until``."""
    retired_at = checked_now(now)
    verify_until = require_aware(verify_until, param="verify_until")
    rows = list(session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))))
    for row in rows:
        row.retired_at = retired_at
        row.verify_until = verify_until
    session.flush()
    return tuple(_key_info(row) for row in rows)


def list_keys(session: Session) -> tuple[KeyInfo, ...]:
    rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))
    return tuple(_key_info(row) for row in rows)


def active_key(session: Session) -> KeyInfo | None:
    """The key new tokens are signed with (the newest unretired one), if any."""
    row = session.scalar(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
        .limit(1)
    )
    return None if row is None else _key_info(row)


def find_key(session: Session, kid: str) -> KeyInfo | None:
    row = session.get(SigningKey, kid)
    return None if row is None else _key_info(row)


def find_verification_key(session: Session, kid: str, now: datetime) -> KeyInfo | None:
    """The key ``kid`` if it may still verify tokens at ``now``; None if unknown or expired."""
    row = session.scalar(
        select(SigningKey).where(
            SigningKey.kid == kid,
            or_(
                SigningKey.verify_until.is_(None),
                SigningKey.verify_until > require_aware(now, param="now"),
            ),
        )
    )
    return None if row is None else _key_info(row)


def _key_info(row: SigningKey) -> KeyInfo:
    jwk: dict[str, str] = json.loads(row.public_jwk)
    return KeyInfo(
        kid=row.kid,
        algorithm=row.algorithm,
        public_jwk=jwk,
        created_at=row.created_at,
        retired_at=row.retired_at,
        verify_until=row.verify_until,
    )


def _duplicate(kid: str) -> ConflictError:
    return ConflictError(f"signing key {kid!r} already exists", param="kid", code="key_exists")
