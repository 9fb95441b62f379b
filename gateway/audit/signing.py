"""Signed checkpoints: an Ed25519 signature over a chain's head (chain, seq, hash, time, final)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.canonical import canonical_json, canonical_time

CHECKPOINT_FORMAT: Final = "enclave-audit-checkpoint-v1"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: chain ``chain_id`` had ``head_hash`` at ``seq`` when it was signed."""

    chain_id: str
    seq: int
    head_hash: str
    signed_at: datetime
    final: bool
    """The writer closed the chain here: no record may follow ``seq``."""
    key_id: str
    signature: str
    """Base64 of the Ed25519 signature over ``checkpoint_message``."""


def checkpoint_message(
    chain_id: str, seq: int, head_hash: str, signed_at: datetime, final: bool
) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    document = {
        "format": CHECKPOINT_FORMAT,
        "chain_id": chain_id,
        "seq": seq,
        "head_hash": head_hash,
        "signed_at": canonical_time(signed_at),
        "final": final,
    }
    return canonical_json(document).encode("ascii")


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class ChainSigner:
    """Signs checkpoints with the audit signing key (built once at start-up, then injected)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.key_id = key_id_of(private_key.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private_key.public_key()

    def checkpoint(
        self, chain_id: str, seq: int, head_hash: str, signed_at: datetime, *, final: bool = False
    ) -> Checkpoint:
        message = checkpoint_message(chain_id, seq, head_hash, signed_at, final)
        signature = base64.b64encode(self._private_key.sign(message)).decode("ascii")
        return Checkpoint(chain_id, seq, head_hash, signed_at, final, self.key_id, signature)


def signature_is_valid(checkpoint: Checkpoint, public_keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """True when a trusted key named by ``checkpoint.key_id`` signed exactly this checkpoint."""
    public_key = public_keys.get(checkpoint.key_id)
    if public_key is None:
        return False
    message = checkpoint_message(
        checkpoint.chain_id,
        checkpoint.seq,
        checkpoint.head_hash,
        checkpoint.signed_at,
        checkpoint.final,
    )
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
