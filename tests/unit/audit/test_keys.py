"""Audit key files: private and 0600, refused when others can read them, rotation keeps trust."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.audit.config import AuditConfig, load_audit_config
from gateway.audit.keys import (
    create_content_key,
    create_signing_key,
    load_content_key,
    load_signer,
    trusted_public_keys,
)
from gateway.audit.signing import signature_is_valid
from gateway.errors import ConfigurationError, ConflictError

MOMENT = datetime(2025, 11, 25, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_signing_key_is_private_and_its_public_half_is_trusted(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "signing-key.pem"
    key_id = create_signing_key(path)
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    assert (path.parent / f"{key_id}.pub").is_file()
    signer = load_signer(path)
    assert signer.key_id == key_id
    checkpoint = signer.checkpoint("chain", 3, "ab" * 32, MOMENT)
    assert signature_is_valid(checkpoint, trusted_public_keys(path))


def test_rotation_keeps_old_checkpoints_verifiable(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "signing-key.pem"
    create_signing_key(path)
    old = load_signer(path).checkpoint("chain", 1, "00" * 32, MOMENT)
    with pytest.raises(ConflictError, match="use --rotate"):
        create_signing_key(path)
    new_id = create_signing_key(path, replace=True)
    assert load_signer(path).key_id == new_id != old.key_id
    assert mode(path) == 0o600
    assert signature_is_valid(old, trusted_public_keys(path))


def test_a_missing_or_exposed_key_is_a_clear_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "signing-key.pem"
    with pytest.raises(ConfigurationError, match="enclave audit init-key"):
        load_signer(path)
    create_signing_key(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_signer(path)


def test_the_content_key_comes_from_its_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "content.key"
    create_content_key(path)
    assert mode(path) == 0o600
    from_file = load_content_key(AuditConfig(content_key_file=path))
    assert from_file is not None
    assert len(from_file) == 32
    inline = path.read_text().strip()
    assert load_content_key(AuditConfig(content_key_file=None, content_key=inline)) == from_file
    assert load_content_key(AuditConfig(content_key_file=tmp_path / "missing.key")) is None
    with pytest.raises(ConfigurationError, match="must be 32 bytes"):
        load_content_key(AuditConfig(content_key_file=None, content_key="c2hvcnQ="))
    with pytest.raises(ConflictError):
        create_content_key(path)


def test_settings_come_from_enclave_audit_variables(tmp_path: Path) -> None:
    config = load_audit_config(
        {
            "ENCLAVE_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "k.pem"),
            "ENCLAVE_AUDIT_CHECKPOINT_RECORDS": "50",
            "ENCLAVE_AUDIT_CHECKPOINT_SECONDS": "2.5",
        }
    )
    assert (config.signing_key_file, config.checkpoint_records) == (tmp_path / "k.pem", 50)
    assert config.checkpoint_seconds == 2.5
    defaults = load_audit_config({})
    assert defaults.signing_key_file == Path("var/keys/audit/signing-key.pem")
    assert defaults.content_key_file == Path("var/keys/audit/content.key")
    assert load_audit_config({"ENCLAVE_AUDIT_CONTENT_KEY_FILE": ""}).content_key_file is None
    with pytest.raises(ConfigurationError, match="ENCLAVE_AUDIT_BATCH_MAX"):
        load_audit_config({"ENCLAVE_AUDIT_BATCH_MAX": "lots"})
