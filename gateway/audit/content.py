"""What content an audit record keeps: nothing, the redacted text, or the full text encrypted.

``full`` content is sealed with AES-256-GCM under the configured content key; the record
stores ``enc:v1:<key id>:<base64 nonce+ciphertext>``, bound to its request id (tampering
with or moving a ciphertext makes it fail to open). Without a key, ``full`` is *withheld*:
the record is still written (no request goes unaudited) but keeps no content and says so;
``require_content_key`` lets start-up refuse policies that ask for ``full`` without a key.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.audit.events import NO_CONTENT, StoredContent
from gateway.errors import ConfigurationError
from gateway.policy.schema import AuditContent

SEALED_PREFIX: Final = "enc:v1:"
NONCE_BYTES: Final = 12
WITHHELD: Final = StoredContent(level="withheld", text=None)


class ContentUnreadableError(Exception):
    """A sealed content could not be opened: wrong key, or the ciphertext was altered or moved."""


def content_key_id(key: bytes) -> str:
    return hashlib.sha256(b"enclave-audit-content-key:" + key).hexdigest()[:16]


class ContentSealer:
    """Applies a policy's audit content level; built once with the content key (or None)."""

    def __init__(self, key: bytes | None) -> None:
        self._aead = None if key is None else AESGCM(key)
        self._key_id = None if key is None else content_key_id(key)

    @property
    def can_keep_full(self) -> bool:
        return self._aead is not None

    def keep(
        self, level: AuditContent, *, redacted: str | None, original: str | None, request_id: str
    ) -> StoredContent:
        """``redacted`` for ``redacted``; ``original`` sealed for ``full``; nothing for ``none``."""
        if level == "none":
            return NO_CONTENT
        if level == "redacted":
            return StoredContent(level="redacted", text=redacted)
        if original is None:
            return StoredContent(level="full", text=None)
        if self._aead is None or self._key_id is None:
            return WITHHELD
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, original.encode("utf-8"), _binding(request_id))
        payload = base64.b64encode(nonce + sealed).decode("ascii")
        return StoredContent(level="full", text=f"{SEALED_PREFIX}{self._key_id}:{payload}")


def open_content(stored: str, key: bytes, request_id: str | None) -> str:
    """The plain text of a sealed ``full`` content; ContentUnreadableError if it cannot be."""
    if not stored.startswith(SEALED_PREFIX):
        raise ContentUnreadableError("not sealed content")
    key_id, _, payload = stored[len(SEALED_PREFIX) :].partition(":")
    if key_id != content_key_id(key):
        raise ContentUnreadableError(f"sealed with another content key ({key_id})")
    try:
        raw = base64.b64decode(payload, validate=True)
        plain = AESGCM(key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _binding(request_id or "")
        )
    except (ValueError, InvalidTag):
        raise ContentUnreadableError("altered, or moved from another record") from None
    return plain.decode("utf-8")


def require_content_key(sealer: ContentSealer, levels: Iterable[tuple[str, AuditContent]]) -> None:
    """Refuse to start when a policy (name, level) asks for ``full`` content and there is no key."""
    wanting = sorted(name for name, level in levels if level == "full")
    if wanting and not sealer.can_keep_full:
        raise ConfigurationError(
            f"policies {', '.join(wanting)} keep full content in the audit trail, but there is "
            "no content key: create one with `enclave audit init-key --content` "
            "(ENCLAVE_AUDIT_CONTENT_KEY_FILE, default var/keys/audit/content.key)"
        )


def _binding(request_id: str) -> bytes:
    return f"enclave-audit-content-v1|{request_id}".encode()
