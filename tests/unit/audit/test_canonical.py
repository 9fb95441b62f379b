"""The canonical form and hash: every column counts, times and text are unambiguous."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.audit.canonical import GENESIS_HASH, HASHED_COLUMNS, canonical_time, record_hash
from gateway.audit.events import AuditEvent, StoredContent
from gateway.audit.rows import EVENT_TABLE, GENESIS, TEXT_LIMITS, chain_rows, event_columns

MOMENT = datetime(2025, 11, 25, 3, 32, 10, 123456, tzinfo=UTC)


def sample_event(**changes: object) -> AuditEvent:
    fields: dict[str, object] = {
        "kind": "completed",
        "request_id": "req-1",
        "occurred_at": MOMENT,
        "tenant": "acme",
        "subject": "app-1",
        "department": "finance",
        "roles": ("app", "admin"),
        "client_address": "10.0.0.7",
        "route": "/v1/chat/completions",
        "model": "tiny",
        "decision": "allowed",
        "reasons": ("none",),
        "status": 200,
        "entity_counts": {"EMAIL_ADDRESS": 2, "PHONE_NUMBER": 1},
        "prompt_tokens": 12,
        "completion_tokens": 30,
        "gateway_us": 900,
        "engine_us": 40_000,
        "content": StoredContent(level="redacted", text="hello <EMAIL_ADDRESS>"),
    }
    fields.update(changes)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def test_every_column_but_id_and_hash_is_hashed() -> None:
    stored = {column.name for column in EVENT_TABLE.columns}
    assert set(HASHED_COLUMNS) == stored - {"id", "hash"}


def test_changing_any_hashed_column_changes_the_hash() -> None:
    (row,), _ = chain_rows([sample_event()], "chain-a", GENESIS)
    original = record_hash(row)
    assert original == row["hash"]
    for name in HASHED_COLUMNS:
        value = row[name]
        altered = (
            MOMENT + timedelta(microseconds=1)
            if isinstance(value, datetime)
            else (value + 1 if isinstance(value, int) else f"{value}x")
        )
        assert record_hash({**row, name: altered}) != original, name


def test_rows_link_to_the_previous_hash_and_count_from_one() -> None:
    rows, head = chain_rows([sample_event(), sample_event(), sample_event()], "chain-a", GENESIS)
    assert [row["seq"] for row in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] == GENESIS_HASH
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    assert rows[2]["prev_hash"] == rows[1]["hash"]
    assert (head.seq, head.hash) == (3, rows[2]["hash"])


def test_times_are_utc_with_microseconds_whatever_the_offset() -> None:
    paris = MOMENT.astimezone(timezone(timedelta(hours=1)))
    assert canonical_time(paris) == canonical_time(MOMENT) == "2025-11-25T03:32:10.123456Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_time(MOMENT.replace(tzinfo=None))


def test_json_columns_are_canonical_and_roles_sorted() -> None:
    columns = event_columns(sample_event())
    assert columns["entity_counts"] == '{"EMAIL_ADDRESS":2,"PHONE_NUMBER":1}'
    assert columns["reasons"] == '["none"]'
    assert columns["roles"] == "admin app"


def test_empty_lists_and_counts_are_stored_as_null() -> None:
    columns = event_columns(sample_event(reasons=(), entity_counts={}, roles=()))
    assert (columns["reasons"], columns["entity_counts"], columns["roles"]) == (None, None, None)


def test_client_text_is_made_storable_and_clipped() -> None:
    columns = event_columns(
        sample_event(
            model="m" * 1000,
            route="/v1/\x00chat",
            content=StoredContent(level="redacted", text="a\x00b\ud800c"),
        )
    )
    assert columns["model"] == "m" * TEXT_LIMITS["model"]
    assert columns["route"] == "/v1/\ufffdchat"
    assert columns["content"] == "a\ufffdb?c"


def test_floats_and_booleans_are_refused() -> None:
    with pytest.raises(TypeError):
        event_columns(sample_event(prompt_tokens=1.5))
    with pytest.raises(TypeError):
        event_columns(sample_event(status=True))
