"""The audit writer: ``await append(event)`` returns once the record is durable (group commit).

One dedicated thread owns the chain. It takes everything queued (up to ``batch_max``),
commits it as one transaction, then wakes every waiting request at once. While one batch
commits the next one gathers, so the cost of a commit (an fsync on SQLite) is shared by
every request that arrived meanwhile instead of capping throughput.

If a batch cannot be committed, every append in it raises ``AuditUnavailableError`` (503)
and nothing of the batch is kept; the next batch tries again. Build one writer in the
app's lifespan: ``await writer.start()`` ... ``await writer.stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import structlog
from sqlalchemy import Engine

from gateway.audit.appender import ChainAppender, ChainDivergedError
from gateway.audit.config import AuditConfig
from gateway.audit.errors import AuditUnavailableError
from gateway.audit.events import AuditEvent, AuditReceipt
from gateway.audit.rows import PreparedEvent, prepare
from gateway.audit.signing import ChainSigner
from gateway.errors import ConfigurationError
from gateway.identity.clock import utc_now

log = structlog.get_logger("enclave.audit")

UNAVAILABLE_MESSAGE: Final = "the audit trail cannot record this request; try again later"


@dataclass(frozen=True, slots=True)
class _Pending:
    prepared: PreparedEvent
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[AuditReceipt]


_STOP: Final = object()
Outcome = AuditReceipt | AuditUnavailableError


@dataclass(frozen=True, slots=True)
class WriterStats:
    batches: int
    records: int
    failed_batches: int
    largest_batch: int


class AuditWriter:
    """Appends audit events to this process's own chain, many requests per commit."""

    def __init__(
        self,
        engine: Engine,
        signer: ChainSigner,
        config: AuditConfig | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._config = config or AuditConfig()
        self._appender = ChainAppender(engine, signer, self._config, clock)
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._accepting = False
        self._thread: threading.Thread | None = None
        self._healthy = False
        self._stats = WriterStats(0, 0, 0, 0)

    @property
    def chain_id(self) -> str:
        return self._appender.identity.chain_id

    @property
    def healthy(self) -> bool:
        """Whether the writer runs and its last commit succeeded (for readiness checks)."""
        return self._accepting and self._healthy

    @property
    def stats(self) -> WriterStats:
        return self._stats

    async def start(self) -> None:
        """Open this process's chain, mark dead chains' unfinished requests, start the thread."""
        await asyncio.to_thread(self._open)
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._accepting = self._healthy = True
        self._thread.start()

    async def append(self, event: AuditEvent) -> AuditReceipt:
        """Queue ``event``; return once it is committed. ``AuditUnavailableError`` (503) if not.

        A malformed event (a naive time, a float count) raises TypeError or ValueError here.
        """
        prepared = prepare(event)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AuditReceipt] = loop.create_future()
        with self._lock:
            if not self._accepting:
                raise AuditUnavailableError(UNAVAILABLE_MESSAGE)
            if self._queue.qsize() >= self._config.backlog_max:
                raise AuditUnavailableError("the audit trail is overloaded; try again later")
            self._queue.put(_Pending(prepared, loop, future))
        return await future

    async def stop(self) -> None:
        """Commit what is queued, mark unfinished requests incomplete, sign and close the chain."""
        with self._lock:
            if not self._accepting:
                return
            self._accepting = False
            self._queue.put(_STOP)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    def _open(self) -> None:
        try:
            self._appender.open()
            self._appender.settle_dead_chains()
        except Exception as exc:
            raise ConfigurationError(f"cannot open the audit trail: {_reason(exc)}") from exc
        log.info("audit chain opened", chain=self.chain_id)

    def _run(self) -> None:
        period = self._config.checkpoint_seconds / 2
        next_housekeeping = time.monotonic() + period
        stopping = False
        try:
            while not stopping:
                batch, stopping = self._take_batch(max(next_housekeeping - time.monotonic(), 0))
                if batch:
                    self._commit(batch)
                if time.monotonic() >= next_housekeeping:
                    self._housekeeping()
                    next_housekeeping = time.monotonic() + period
            self._close()
        finally:
            with self._lock:
                self._accepting = False
            self._fail_leftovers()

    def _take_batch(self, timeout: float) -> tuple[list[_Pending], bool]:
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return [], False
        batch: list[_Pending] = []
        while item is not _STOP:
            if isinstance(item, _Pending):
                batch.append(item)
            if len(batch) >= self._config.batch_max:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            receipts = self._appender.append([pending.prepared for pending in batch])
        except Exception as exc:
            self._healthy = False
            self._count(len(batch), failed=True)
            log.error("audit batch not committed", records=len(batch), error=_reason(exc))
            _deliver(batch, [AuditUnavailableError(UNAVAILABLE_MESSAGE) for _ in batch])
            if isinstance(exc, ChainDivergedError):
                self._reopen()
            return
        self._healthy = True
        self._count(len(batch), failed=False)
        _deliver(batch, receipts)

    def _housekeeping(self) -> None:
        try:
            self._appender.housekeeping()
        except ChainDivergedError:
            self._reopen()
        except Exception as exc:
            log.error("audit housekeeping failed", error=_reason(exc))

    def _reopen(self) -> None:
        try:
            self._appender.reopen()
        except Exception as exc:
            log.error("cannot open a new audit chain", error=_reason(exc))

    def _close(self) -> None:
        try:
            self._appender.close()
        except Exception as exc:
            log.error("audit chain not closed cleanly", chain=self.chain_id, error=_reason(exc))
            return
        log.info("audit chain closed", chain=self.chain_id, seq=self._appender.head.seq)

    def _fail_leftovers(self) -> None:
        leftovers: list[_Pending] = []
        with contextlib.suppress(queue.Empty):
            while True:
                item = self._queue.get_nowait()
                if isinstance(item, _Pending):
                    leftovers.append(item)
        _deliver(leftovers, [AuditUnavailableError(UNAVAILABLE_MESSAGE) for _ in leftovers])

    def _count(self, records: int, *, failed: bool) -> None:
        stats = self._stats
        self._stats = WriterStats(
            batches=stats.batches + (0 if failed else 1),
            records=stats.records + (0 if failed else records),
            failed_batches=stats.failed_batches + (1 if failed else 0),
            largest_batch=max(stats.largest_batch, records),
        )


def _deliver(batch: Sequence[_Pending], outcomes: Sequence[Outcome]) -> None:
    """Resolve each pending append on its own event loop, one wake-up per loop."""
    by_loop: defaultdict[asyncio.AbstractEventLoop, list[tuple[_Pending, Outcome]]] = defaultdict(
        list
    )
    for pending, outcome in zip(batch, outcomes, strict=True):
        by_loop[pending.loop].append((pending, outcome))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[_Pending, Outcome]]) -> None:
    for pending, outcome in settled:
        if pending.future.done():  # the request was cancelled; its record is durable anyway
            continue
        if isinstance(outcome, AuditReceipt):
            pending.future.set_result(outcome)
        else:
            pending.future.set_exception(outcome)


def _reason(exc: BaseException) -> str:
    """A one-line reason without SQL text or parameters (they may hold audit content)."""
    original = getattr(exc, "orig", None)
    source = original if original is not None else exc
    first_line = str(source).strip().splitlines()[0] if str(source).strip() else ""
    return f"{type(source).__name__}: {first_line}"[:300]
