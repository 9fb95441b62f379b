"""Signing-key rows on SQLite and PostgreSQL: the active key, retirement, verification window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from gateway.errors import ConflictError, InvalidRequestError
from gateway.identity.keys import (
    KeyLifecycle,
    active_key,
    find_key,
    find_verification_key,
    list_keys,
    record_signing_key,
    retire_active_keys,
)

NOW = datetime.now(UTC).replace(microsecond=0)
JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def test_no_keys_at_first(session: Session) -> None:
    assert list_keys(session) == ()
    assert active_key(session) is None
    assert find_verification_key(session, "k1", NOW) is None


def test_recorded_key_is_active_and_verifies(session: Session) -> None:
    key = record_signing_key(session, "k1", "EdDSA", JWK, now=NOW)
    session.commit()
    assert active_key(session) == key
    assert find_key(session, "k1") == key
    assert key.public_jwk == JWK
    assert key.lifecycle(NOW) is KeyLifecycle.ACTIVE
    assert find_verification_key(session, "k1", NOW + timedelta(days=3650)) == key


def test_private_jwk_members_are_never_stored(session: Session) -> None:
    with pytest.raises(InvalidRequestError, match="private"):
        record_signing_key(session, "k1", "EdDSA", {**JWK, "d": "secret"})
    assert list_keys(session) == ()


def test_duplicate_kid_is_a_conflict(session: Session) -> None:
    record_signing_key(session, "k1", "EdDSA", JWK)
    with pytest.raises(ConflictError):
        record_signing_key(session, "k1", "EdDSA", JWK)


def test_rotation_overlap_old_key_verifies_until_verify_until(session: Session) -> None:
    record_signing_key(session, "k1", "EdDSA", JWK, now=NOW)
    rotated_at = NOW + timedelta(days=30)
    verify_until = rotated_at + timedelta(days=90)
    retired = retire_active_keys(session, verify_until, now=rotated_at)
    record_signing_key(session, "k2", "EdDSA", JWK, now=rotated_at)
    session.commit()

    assert [key.kid for key in retired] == ["k1"]
    active = active_key(session)
    assert active is not None
    assert active.kid == "k2"
    old = find_verification_key(session, "k1", verify_until - timedelta(seconds=1))
    assert old is not None
    assert (old.retired_at, old.verify_until) == (rotated_at, verify_until)
    assert old.lifecycle(rotated_at) is KeyLifecycle.RETIRED
    assert find_verification_key(session, "k1", verify_until) is None
    assert old.lifecycle(verify_until) is KeyLifecycle.EXPIRED
    assert find_verification_key(session, "k2", verify_until + timedelta(days=1)) is not None
    assert [key.kid for key in list_keys(session)] == ["k1", "k2"]


def test_retiring_again_leaves_already_retired_keys_alone(session: Session) -> None:
    record_signing_key(session, "k1", "EdDSA", JWK, now=NOW)
    retire_active_keys(session, NOW + timedelta(days=1), now=NOW)
    assert retire_active_keys(session, NOW + timedelta(days=9), now=NOW) == ()
    key = find_key(session, "k1")
    assert key is not None
    assert key.verify_until == NOW + timedelta(days=1)
