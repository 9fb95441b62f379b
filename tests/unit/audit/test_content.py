"""Content per the policy's audit level: none, redacted, full (sealed) or withheld."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from gateway.audit.config import AuditConfig
from gateway.audit.content import (
    ContentSealer,
    ContentUnreadableError,
    open_content,
    require_content_key,
)
from gateway.audit.request import RequestAudit
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.db.session import create_db_engine, upgrade_database
from gateway.errors import ConfigurationError
from tests.unit.audit.trail import write_events

pytestmark = pytest.mark.anyio

ORIGINAL = "My card is 4111 1111 1111 1111 and my mail is jane.doe@example.com"
REDACTED = "My card is <CREDIT_CARD> and my mail is <EMAIL_ADDRESS>"
KEY = secrets.token_bytes(32)


async def stored_content(
    engine: Engine, signer: ChainSigner, config: AuditConfig, level: str, sealer: ContentSealer
) -> tuple[str, str | None]:
    audit = RequestAudit(request_id=f"req-{level}", route="/v1/completions", tenant="acme")
    content = sealer.keep(level, redacted=REDACTED, original=ORIGINAL, request_id=audit.request_id)  # type: ignore[arg-type]
    await write_events(engine, signer, config, [audit.started(content=content)])
    with engine.connect() as connection:
        row = connection.execute(
            select(EVENT_TABLE.c.content_level, EVENT_TABLE.c.content).where(
                EVENT_TABLE.c.request_id == audit.request_id, EVENT_TABLE.c.kind == "started"
            )
        ).one()
    return row.content_level, row.content


async def test_none_keeps_no_content(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    stored = await stored_content(engine, signer, audit_config, "none", ContentSealer(KEY))
    assert stored == ("none", None)


async def test_redacted_keeps_the_redacted_text_only(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    stored = await stored_content(engine, signer, audit_config, "redacted", ContentSealer(KEY))
    assert stored == ("redacted", REDACTED)


async def test_full_is_sealed_and_opens_with_the_key(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    level, content = await stored_content(engine, signer, audit_config, "full", ContentSealer(KEY))
    assert level == "full"
    assert content is not None
    assert content.startswith("enc:v1:")
    assert "4111" not in content
    assert "jane.doe" not in content
    assert open_content(content, KEY, "req-full") == ORIGINAL
    with engine.connect() as connection:
        every_value = str([tuple(row) for row in connection.execute(select(EVENT_TABLE))])
    assert "jane.doe" not in every_value
    assert "4111 1111" not in every_value


async def test_full_without_a_key_is_withheld(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    stored = await stored_content(engine, signer, audit_config, "full", ContentSealer(None))
    assert stored == ("withheld", None)


async def test_no_plaintext_reaches_the_sqlite_file(
    tmp_path: Path, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    upgrade_database(url)
    engine = create_db_engine(url)
    try:
        await stored_content(engine, signer, audit_config, "full", ContentSealer(KEY))
    finally:
        engine.dispose()
    raw = database_bytes(tmp_path)
    assert b"jane.doe" not in raw
    assert b"4111 1111" not in raw
    assert b"enc:v1:" in raw


def database_bytes(folder: Path) -> bytes:
    """The SQLite file with its WAL, as a disk thief would read them."""
    return b"".join(path.read_bytes() for path in sorted(folder.glob("plain.db*")))


def test_a_sealed_content_moved_to_another_record_or_altered_does_not_open() -> None:
    sealed = ContentSealer(KEY).keep("full", redacted=None, original=ORIGINAL, request_id="req-1")
    assert sealed.text is not None
    with pytest.raises(ContentUnreadableError, match="moved"):
        open_content(sealed.text, KEY, "req-2")
    flipped = sealed.text[:-6] + ("A" if sealed.text[-6] != "A" else "B") + sealed.text[-5:]
    with pytest.raises(ContentUnreadableError):
        open_content(flipped, KEY, "req-1")
    with pytest.raises(ContentUnreadableError, match="another content key"):
        open_content(sealed.text, secrets.token_bytes(32), "req-1")


def test_start_up_refuses_full_policies_without_a_key() -> None:
    levels = [("default", "redacted"), ("legal", "full")]
    with pytest.raises(ConfigurationError, match="policies legal keep full content"):
        require_content_key(ContentSealer(None), levels)  # type: ignore[arg-type]
    require_content_key(ContentSealer(KEY), levels)  # type: ignore[arg-type]
    require_content_key(ContentSealer(None), [("default", "redacted")])
