"""What happens when the quota store cannot answer: one internal error, counted and logged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import limits.errors
import redis.exceptions
import structlog

STORE_ERRORS: tuple[type[Exception], ...] = (
    limits.errors.StorageError,  # what `limits` raises for a backend failure (wrap_exceptions)
    redis.exceptions.RedisError,  # connection refused, timeouts, script errors
    OSError,  # sockets failing below the client (TimeoutError is an OSError too)
)


class StoreUnavailableError(Exception):
    """The quota store did not answer; ``operation`` says what was being attempted."""

    def __init__(self, operation: str, cause: Exception) -> None:
        super().__init__(f"quota store unavailable during {operation}")
        self.operation = operation
        self.cause_name = _root_cause_name(cause)


def _root_cause_name(error: Exception) -> str:
    # limits wraps the client's error; the client's own class says more (ConnectionError...).
    if isinstance(error, limits.errors.StorageError):
        return type(error.storage_error).__name__
    return type(error).__name__


@asynccontextmanager
async def store_call(operation: str) -> AsyncIterator[None]:
    """Turn any store failure raised inside the block into ``StoreUnavailableError``."""
    try:
        yield
    except STORE_ERRORS as error:
        raise StoreUnavailableError(operation, error) from error


class StoreHealth:
    """Counts store failures (the metrics code reads ``failures``) and logs each one."""

    def __init__(self, logger: structlog.typing.FilteringBoundLogger) -> None:
        self.failures = 0
        self._logger = logger

    def record(self, outage: StoreUnavailableError) -> None:
        self.failures += 1
        self._logger.error(
            "rate_limit_store_unavailable",
            operation=outage.operation,
            error=outage.cause_name,
            failures=self.failures,
        )
