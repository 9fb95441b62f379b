"""The audit trail's key files: the checkpoint signing key and the content encryption key.

Private files are created 0600 in a 0700 folder and refused when others can read them.
A signing key's public half is written beside it as ``<key id>.pub``; every ``*.pub`` in
that folder is trusted by ``verify``, so a rotated-out key keeps verifying old checkpoints.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.config import AuditConfig
from gateway.audit.signing import ChainSigner, key_id_of
from gateway.errors import ConfigurationError, ConflictError

CONTENT_KEY_BYTES: Final = 32


def create_signing_key(path: Path, *, replace: bool = False) -> str:
    """Write a new Ed25519 key to ``path`` (0600) and its public half beside it; its key id."""
    if path.exists() and not replace:
        raise ConflictError(f"{path}: an audit signing key exists already (use --rotate)")
    private_key = Ed25519PrivateKey.generate()
    key_id = key_id_of(private_key.public_key())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _make_private_folder(path.parent)
    (path.parent / f"{key_id}.pub").write_bytes(public_pem)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    _write_private(temporary, pem)
    temporary.replace(path)
    return key_id


def load_signer(path: Path) -> ChainSigner:
    """The checkpoint signer from ``path``; a clear ConfigurationError when it is not usable."""
    data = _read_private(path, hint="create it with `enclave audit init-key`")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise ConfigurationError(f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path}: not an Ed25519 private key")
    return ChainSigner(key)


def trusted_public_keys(
    signing_key_file: Path, extra_files: Iterable[Path] = ()
) -> dict[str, Ed25519PublicKey]:
    """Key id → public key: every ``*.pub`` beside the signing key, plus ``extra_files``."""
    folder = signing_key_file.parent
    files = sorted(folder.glob("*.pub")) if folder.is_dir() else []
    keys: dict[str, Ed25519PublicKey] = {}
    for path in [*files, *extra_files]:
        public_key = _load_public_key(path)
        keys[key_id_of(public_key)] = public_key
    return keys


def create_content_key(path: Path) -> None:
    """Write a random AES-256 key (base64 text) to ``path`` with mode 0600."""
    if path.exists():
        raise ConflictError(f"{path}: a content key exists already; keep it (old records need it)")
    _make_private_folder(path.parent)
    key = base64.b64encode(secrets.token_bytes(CONTENT_KEY_BYTES)) + b"\n"
    _write_private(path, key)


def load_content_key(config: AuditConfig) -> bytes | None:
    """The ``full``-content key: from its file if that exists, else inline; None if neither."""
    path = config.content_key_file
    if path is not None and path.exists():
        text = _read_private(path, hint="create it with `enclave audit init-key --content`")
        return _decode_content_key(text.decode("ascii", "replace"), str(path))
    if config.content_key is not None:
        return _decode_content_key(config.content_key, "ENCLAVE_AUDIT_CONTENT_KEY")
    return None


def _decode_content_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ConfigurationError(f"{source}: the audit content key is not base64") from None
    if len(key) != CONTENT_KEY_BYTES:
        raise ConfigurationError(
            f"{source}: the audit content key must be {CONTENT_KEY_BYTES} bytes, not {len(key)}"
        )
    return key


def _load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read public key ({exc.strerror})") from None
    except ValueError:
        raise ConfigurationError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path}: not an Ed25519 public key")
    return key


def _read_private(path: Path, *, hint: str) -> bytes:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: audit key file is missing; {hint}") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read audit key file ({exc.strerror})") from None
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigurationError(
            f"{path}: audit key file is open to other users (mode {stat.S_IMODE(mode):04o}); "
            "run `chmod 600` on it"
        )
    return data


def _make_private_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"{folder}: cannot create the key folder ({exc.strerror})"
        ) from None


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
