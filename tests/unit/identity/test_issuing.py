"""Key rotation and token issuance end to end: files on disk, rows, and a verifiable JWT."""

from __future__ import annotations

import dataclasses
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy.orm import Session

from gateway.errors import ConfigurationError, ConflictError, InvalidRequestError, NotFoundError
from gateway.identity.issuing import issue_token, rotate_signing_key
from gateway.identity.keys import active_key, find_verification_key
from gateway.identity.tenants import TenantStatus, create_tenant, set_tenant_status
from gateway.identity.tokens import find_token_state, list_tokens
from gateway.settings import Settings

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(keys_dir=tmp_path / "keys", token_max_ttl_seconds=7 * 86400)


@pytest.fixture
def acme(session: Session) -> str:
    create_tenant(session, "acme", "finance")
    return "acme"


def _decode(token: str, session: Session, settings: Settings) -> dict[str, object]:
    kid = jwt.get_unverified_header(token)["kid"]
    key = find_verification_key(session, kid, NOW)
    assert key is not None
    claims: dict[str, object] = jwt.decode(
        token,
        jwt.PyJWK(key.public_jwk).key,
        algorithms=[key.algorithm],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    return claims


def test_rotate_creates_an_active_key_with_a_private_file(
    session: Session, settings: Settings
) -> None:
    key = rotate_signing_key(session, settings)
    assert active_key(session) == key
    assert key.algorithm == "EdDSA"
    assert "d" not in key.public_jwk
    private = settings.keys_dir / f"{key.kid}.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.keys_dir.stat().st_mode) == 0o700


def test_rotation_retires_the_old_key_for_one_maximum_lifetime(
    session: Session, settings: Settings
) -> None:
    first = rotate_signing_key(session, settings, now=NOW)
    later = NOW + timedelta(days=1)
    second = rotate_signing_key(session, settings, now=later)
    verify_until = later + timedelta(seconds=settings.token_max_ttl_seconds)
    assert active_key(session) == second
    old = find_verification_key(session, first.kid, verify_until - timedelta(seconds=1))
    assert old is not None
    assert old.verify_until == verify_until
    assert find_verification_key(session, first.kid, verify_until) is None


def test_issued_token_verifies_with_the_recorded_public_key(
    session: Session, settings: Settings, acme: str
) -> None:
    key = rotate_signing_key(session, settings)
    issued = issue_token(
        session, settings, tenant=acme, roles=["compliance", "app"], ttl_seconds=3600, now=NOW
    )
    session.commit()
    claims = _decode(issued.token, session, settings)
    assert claims["sub"] == "acme"  # the subject defaults to the tenant
    assert claims["tenant"] == "acme"
    assert claims["department"] == "finance"
    assert claims["roles"] == ["app", "compliance"]
    assert claims["jti"] == issued.jti
    assert claims["exp"] == int((NOW + timedelta(hours=1)).timestamp())
    assert issued.kid == key.kid
    assert [token.jti for token in list_tokens(session, acme, now=NOW)] == [issued.jti]
    state = find_token_state(session, issued.jti)
    assert state is not None
    assert state.expires_at == issued.expires_at == NOW + timedelta(hours=1)


def test_the_token_never_shows_in_repr(session: Session, settings: Settings, acme: str) -> None:
    rotate_signing_key(session, settings)
    issued = issue_token(session, settings, tenant=acme, roles=["app"], ttl_seconds=60)
    assert issued.token not in repr(issued)
    assert issued.jti in repr(issued)


def test_old_tokens_still_verify_after_rotation(
    session: Session, settings: Settings, acme: str
) -> None:
    rotate_signing_key(session, settings, now=NOW)
    issued = issue_token(session, settings, tenant=acme, roles=["app"], ttl_seconds=3600, now=NOW)
    rotate_signing_key(session, settings, now=NOW)
    assert _decode(issued.token, session, settings)["jti"] == issued.jti


def test_explicit_subject(session: Session, settings: Settings, acme: str) -> None:
    rotate_signing_key(session, settings)
    issued = issue_token(
        session, settings, tenant=acme, roles=["admin"], ttl_seconds=60, subject="ops-bot"
    )
    assert _decode(issued.token, session, settings)["sub"] == "ops-bot"


@pytest.mark.parametrize("ttl_seconds", [0, -1, 7 * 86400 + 1])
def test_ttl_out_of_range_is_refused(
    session: Session, settings: Settings, acme: str, ttl_seconds: int
) -> None:
    rotate_signing_key(session, settings)
    with pytest.raises(InvalidRequestError, match="lifetime"):
        issue_token(session, settings, tenant=acme, roles=["app"], ttl_seconds=ttl_seconds)


def test_ttl_of_exactly_the_maximum_is_allowed(
    session: Session, settings: Settings, acme: str
) -> None:
    rotate_signing_key(session, settings)
    issued = issue_token(
        session, settings, tenant=acme, roles=["app"], ttl_seconds=7 * 86400, now=NOW
    )
    assert issued.expires_at == NOW + timedelta(days=7)


def test_suspended_tenant_gets_no_tokens(session: Session, settings: Settings, acme: str) -> None:
    rotate_signing_key(session, settings)
    set_tenant_status(session, acme, TenantStatus.SUSPENDED)
    with pytest.raises(ConflictError) as caught:
        issue_token(session, settings, tenant=acme, roles=["app"], ttl_seconds=60)
    assert caught.value.code == "tenant_suspended"


def test_unknown_tenant(session: Session, settings: Settings) -> None:
    rotate_signing_key(session, settings)
    with pytest.raises(NotFoundError):
        issue_token(session, settings, tenant="ghost", roles=["app"], ttl_seconds=60)


def test_no_active_key_is_a_configuration_error(
    session: Session, settings: Settings, acme: str
) -> None:
    with pytest.raises(ConfigurationError, match="enclave keys rotate"):
        issue_token(session, settings, tenant=acme, roles=["app"], ttl_seconds=60)


def test_missing_private_key_file_is_a_configuration_error(
    session: Session, settings: Settings, acme: str, tmp_path: Path
) -> None:
    rotate_signing_key(session, settings)
    elsewhere = dataclasses.replace(settings, keys_dir=tmp_path / "other-host-keys")
    with pytest.raises(ConfigurationError):
        issue_token(session, elsewhere, tenant=acme, roles=["app"], ttl_seconds=60)
    assert list_tokens(session, acme) == ()
