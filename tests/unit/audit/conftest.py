"""Audit fixtures: a signing key, a fast-checkpointing config, writers on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.config import AuditConfig
from gateway.audit.keys import create_signing_key, load_signer, trusted_public_keys
from gateway.audit.signing import ChainSigner


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def signing_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "audit" / "signing-key.pem"
    create_signing_key(path)
    return path


@pytest.fixture
def signer(signing_key_file: Path) -> ChainSigner:
    return load_signer(signing_key_file)


@pytest.fixture
def public_keys(signing_key_file: Path) -> dict[str, Ed25519PublicKey]:
    return trusted_public_keys(signing_key_file)


@pytest.fixture
def audit_config(signing_key_file: Path) -> AuditConfig:
    """Checkpoints every 10 records, so short tests cross several of them."""
    return AuditConfig(
        signing_key_file=signing_key_file, content_key_file=None, checkpoint_records=10
    )
