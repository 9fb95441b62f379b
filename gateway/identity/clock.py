"""The one place identity services read the time (tests pass ``now`` instead)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def checked_now(now: datetime | None) -> datetime:
    """``now`` if given (it must be timezone-aware), else the current UTC time."""
    return utc_now() if now is None else require_aware(now, param="now")


def require_aware(value: datetime, *, param: str) -> datetime:
    """``value`` in UTC; ValueError for a naive datetime (a programming error, not input)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{param} must be timezone-aware")
    return value.astimezone(UTC)
