"""The policy set in force, reloaded whole on file change or SIGHUP.

A reload builds a complete new ``PolicySet`` and swaps one reference, so a request sees
either the old set or the new one, never a mix. A broken edit changes nothing: the last
good set stays in force and the problems are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from pathlib import Path

import structlog
from watchfiles import Change, awatch

from gateway.policy.loader import POLICY_SUFFIX, load_policy_set
from gateway.policy.policy_set import PolicySet
from gateway.policy.problems import PolicyError

log = structlog.get_logger("enclave.policy")

WATCH_DEBOUNCE_MS = 300
"""Changes within this window (an editor's write-rename-chmod) cause one reload."""
STOP_TIMEOUT_S = 2.0


class PolicyStore:
    """Holds the current ``PolicySet``; build it in the app's lifespan and inject it."""

    def __init__(
        self,
        folder: Path,
        policies: PolicySet,
        *,
        debounce_ms: int = WATCH_DEBOUNCE_MS,
        force_polling: bool = False,
    ) -> None:
        self.folder = folder
        self._current = policies
        self._debounce_ms = debounce_ms
        self._force_polling = force_polling
        self._stop_watching = asyncio.Event()
        self._watch_task: asyncio.Task[None] | None = None
        self._sighup_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def open(cls, folder: Path, *, force_polling: bool = False) -> PolicyStore:
        """Load ``folder`` for start-up; ``PolicyError`` (every problem) if it is not usable."""
        return cls(folder, load_policy_set(folder), force_polling=force_polling)

    @property
    def current(self) -> PolicySet:
        """The set in force now; read it once per request and use that value throughout."""
        return self._current

    def reload(self) -> bool:
        """Load the folder again and swap it in; on any problem keep the current set."""
        try:
            fresh = load_policy_set(self.folder)
        except PolicyError as exc:
            problems = [str(problem) for problem in exc.problems]
            kept = list(self._current.departments)
            log.error("policy reload failed", problems=problems, kept_departments=kept)
            return False
        except Exception as exc:  # fail safe: whatever went wrong, the last good set stays
            log.error("policy reload failed", error=type(exc).__name__, exc_info=exc)
            return False
        self._current = fresh
        log.info("policies reloaded", departments=list(fresh.departments))
        return True

    async def start(self) -> None:
        """Watch the folder and reload on SIGHUP; call from the app's lifespan start-up."""
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            self.install_sighup_handler(loop)
        else:  # e.g. a test client's portal thread: signals only reach the main thread
            log.info("policy reload on SIGHUP unavailable outside the main thread")
        self._stop_watching.clear()
        self._watch_task = loop.create_task(self.watch(), name="policy-watch")
        self._watch_task.add_done_callback(_log_watch_end)

    async def stop(self) -> None:
        """Stop watching and give SIGHUP back; call from the app's lifespan shutdown."""
        self.remove_sighup_handler()
        self._stop_watching.set()
        task, self._watch_task = self._watch_task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT_S)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def watch(self) -> None:
        """Reload whenever a ``.yaml`` file in the folder changes, until ``stop``."""
        async for changes in awatch(
            self.folder,
            watch_filter=_is_policy_file,
            debounce=self._debounce_ms,
            stop_event=self._stop_watching,
            force_polling=self._force_polling,
            recursive=False,
        ):
            names = sorted({Path(path).name for _, path in changes})
            log.info("policy files changed", files=names)
            self.reload()

    def install_sighup_handler(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reload on SIGHUP (``kill -HUP <pid>``), on ``loop``'s thread."""
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        self._sighup_loop = loop

    def remove_sighup_handler(self) -> None:
        loop, self._sighup_loop = self._sighup_loop, None
        if loop is not None and not loop.is_closed():
            loop.remove_signal_handler(signal.SIGHUP)

    def _on_sighup(self) -> None:
        log.info("SIGHUP received; reloading policies")
        self.reload()


def _is_policy_file(change: Change, path: str) -> bool:
    name = Path(path).name
    return not name.startswith(".") and name.endswith((POLICY_SUFFIX, ".yml"))


def _log_watch_end(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error(
            "policy watch stopped; changes need SIGHUP now",
            error=type(error).__name__,
            exc_info=error,
        )
