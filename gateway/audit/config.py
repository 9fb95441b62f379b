"""The audit trail's settings, read once from ``ENCLAVE_AUDIT_*`` environment variables.

They sit beside ``gateway.settings.Settings`` (which owns the database URL) so that the
audit keys can be configured without touching the request path's settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import ConfigurationError

ENV_PREFIX = "ENCLAVE_AUDIT_"
DEFAULT_SIGNING_KEY_FILE = Path("var/keys/audit/signing-key.pem")
DEFAULT_CONTENT_KEY_FILE = Path("var/keys/audit/content.key")


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Keys and rhythms of the audit trail."""

    signing_key_file: Path = DEFAULT_SIGNING_KEY_FILE
    """Ed25519 private key (PEM, 0600) that signs chain checkpoints (``enclave audit init-key``).
    Public halves (``*.pub``) in the same folder are the keys ``verify`` trusts."""
    content_key_file: Path | None = DEFAULT_CONTENT_KEY_FILE
    """File holding the base64 AES-256 key for ``full`` content (0600; ``enclave audit
    init-key --content``); used when it exists, preferred over ``content_key``."""
    content_key: str | None = None
    """The base64 AES-256 key for ``full`` content, inline (prefer ``content_key_file``)."""
    batch_max: int = 256
    """Most records committed in one transaction."""
    checkpoint_records: int = 1000
    """A checkpoint is signed after this many records..."""
    checkpoint_seconds: float = 30.0
    """...or this long after the first unsigned record; also the heartbeat period."""
    stale_after_seconds: float = 150.0
    """A chain whose writer's heartbeat is older than this is treated as dead."""
    backlog_max: int = 20_000
    """Most records waiting for the writer; beyond it appends are refused (503)."""
    anchor_file: Path | None = None
    """Append-only file every signed statement is also written to (fsync), outside the
    database; ``verify`` cross-checks the two. None: ``anchor.jsonl`` beside the signing key."""
    unsigned_tail_max_seconds: float = 120.0
    """``verify`` fails on records not covered by a signed statement for longer than this
    (a live writer signs within ``checkpoint_seconds``); a closed chain may have none."""
    verify_interval_seconds: float = 60.0
    """The compliance API and page verify (incrementally) at most this often; in between
    they show the last result."""

    @property
    def anchor_path(self) -> Path:
        """The anchor file in force (``anchor_file``, or ``anchor.jsonl`` beside the key)."""
        if self.anchor_file is not None:
            return self.anchor_file
        return self.signing_key_file.parent / "anchor.jsonl"


def load_audit_config(environ: Mapping[str, str] | None = None) -> AuditConfig:
    """Build AuditConfig from ``ENCLAVE_AUDIT_*`` (``ENCLAVE_AUDIT_SIGNING_KEY_FILE``, ...)."""
    env = os.environ if environ is None else environ
    defaults = AuditConfig()

    def text(name: str) -> str | None:
        value = env.get(f"{ENV_PREFIX}{name}")
        return value if value else None

    def number(name: str, default: float) -> float:
        raw = text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigurationError(f"{ENV_PREFIX}{name}: not a number: {raw!r}") from None
        if value <= 0:
            raise ConfigurationError(f"{ENV_PREFIX}{name}: must be positive, not {raw}")
        return value

    signing = text("SIGNING_KEY_FILE")
    content_file = env.get(f"{ENV_PREFIX}CONTENT_KEY_FILE")
    anchor = text("ANCHOR_FILE")
    return AuditConfig(
        signing_key_file=Path(signing) if signing else defaults.signing_key_file,
        content_key_file=defaults.content_key_file if content_file is None else _path(content_file),
        content_key=text("CONTENT_KEY"),
        batch_max=int(number("BATCH_MAX", defaults.batch_max)),
        checkpoint_records=int(number("CHECKPOINT_RECORDS", defaults.checkpoint_records)),
        checkpoint_seconds=number("CHECKPOINT_SECONDS", defaults.checkpoint_seconds),
        stale_after_seconds=number("STALE_AFTER_SECONDS", defaults.stale_after_seconds),
        backlog_max=int(number("BACKLOG_MAX", defaults.backlog_max)),
        anchor_file=Path(anchor) if anchor else None,
        unsigned_tail_max_seconds=number(
            "UNSIGNED_TAIL_MAX_SECONDS", defaults.unsigned_tail_max_seconds
        ),
        verify_interval_seconds=number("VERIFY_INTERVAL_SECONDS", defaults.verify_interval_seconds),
    )


def _path(value: str) -> Path | None:
    """A path, or None for an empty value (which switches the file off)."""
    return Path(value) if value else None
