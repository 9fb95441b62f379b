"""Signed statements about a chain: Ed25519 signatures over its head, linked one to the next.

A chain's statements are, in order: ``open`` (seq 1, its opening record), any number of
``checkpoint`` statements, and one ``close`` (the writer stopped) or ``recovered`` (another
process closed a chain whose writer died). Each names the digest of the chain's previous
statement, so dropping one from the middle breaks the link of the next.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.canonical import canonical_json, canonical_time

CHECKPOINT_FORMAT: Final = "enclave-audit-checkpoint-v2"
StatementKind = Literal["open", "checkpoint", "close", "recovered"]
STATEMENT_KINDS: Final[tuple[StatementKind, ...]] = ("open", "checkpoint", "close", "recovered")
FINAL_STATEMENTS: Final = frozenset({"close", "recovered"})
"""After these, no record may follow in the chain."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: chain ``chain_id`` had ``head_hash`` at ``seq`` when it was signed."""

    chain_id: str
    seq: int
    head_hash: str
    signed_at: datetime
    final: bool
    """The chain ends here (``close`` or ``recovered``): no record may follow ``seq``."""
    key_id: str
    signature: str
    """Base64 of the Ed25519 signature over ``checkpoint_message``."""
    statement: StatementKind = "checkpoint"
    previous: str = ""
    """``digest`` of the chain's previous statement ("" for ``open``)."""

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the signed message and its signature: what the next one links to."""
        return statement_digest(self)


def checkpoint_message(
    chain_id: str,
    seq: int,
    head_hash: str,
    signed_at: datetime,
    statement: StatementKind,
    previous: str,
) -> bytes:
    """The exact bytes a statement's signature covers."""
    document = {
        "format": CHECKPOINT_FORMAT,
        "chain_id": chain_id,
        "seq": seq,
        "head_hash": head_hash,
        "signed_at": canonical_time(signed_at),
        "statement": statement,
        "previous": previous,
    }
    return canonical_json(document).encode("ascii")


def statement_digest(checkpoint: Checkpoint) -> str:
    message = _message_of(checkpoint)
    return hashlib.sha256(message + b"." + checkpoint.signature.encode("ascii")).hexdigest()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class ChainSigner:
    """Signs statements with the audit signing key (built once at start-up, then injected)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.key_id = key_id_of(private_key.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private_key.public_key()

    def checkpoint(
        self,
        chain_id: str,
        seq: int,
        head_hash: str,
        signed_at: datetime,
        *,
        statement: StatementKind = "checkpoint",
        previous: str = "",
    ) -> Checkpoint:
        message = checkpoint_message(chain_id, seq, head_hash, signed_at, statement, previous)
        signature = base64.b64encode(self._private_key.sign(message)).decode("ascii")
        final = statement in FINAL_STATEMENTS
        return Checkpoint(
            chain_id, seq, head_hash, signed_at, final, self.key_id, signature, statement, previous
        )


def signature_is_valid(checkpoint: Checkpoint, public_keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """True when a trusted key named by ``checkpoint.key_id`` signed exactly this statement."""
    public_key = public_keys.get(checkpoint.key_id)
    if public_key is None:
        return False
    if checkpoint.final != (checkpoint.statement in FINAL_STATEMENTS):
        return False
    try:
        public_key.verify(
            base64.b64decode(checkpoint.signature, validate=True), _message_of(checkpoint)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _message_of(checkpoint: Checkpoint) -> bytes:
    return checkpoint_message(
        checkpoint.chain_id,
        checkpoint.seq,
        checkpoint.head_hash,
        checkpoint.signed_at,
        checkpoint.statement,
        checkpoint.previous,
    )
