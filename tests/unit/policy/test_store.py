"""Hot reload: a good edit swaps the whole set; a broken edit keeps the last good set."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from gateway.policy.problems import PolicyError
from gateway.policy.store import PolicyStore
from tests.unit.policy.policy_folder import PolicyFolder

WAIT_S = 10.0


def test_reload_swaps_in_the_new_set(folder: PolicyFolder) -> None:
    store = PolicyStore.open(folder.path)
    before = store.current
    folder.write("finance", "extends: default\nlimits: {max_tokens: 7}\n")
    with capture_logs() as logs:
        assert store.reload() is True
    assert store.current is not before
    assert store.current.policy_for("finance").limits.max_tokens == 7
    assert before.departments == ("default",)  # the old set is untouched
    assert logs == [
        {"event": "policies reloaded", "log_level": "info", "departments": ["default", "finance"]}
    ]


def test_a_broken_edit_keeps_the_last_good_set_and_logs_why(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\nlimits: {max_tokens: 7}\n")
    store = PolicyStore.open(folder.path)
    good = store.current
    folder.write("finance", "extends: default\nlimits: {max_tokens: seven}\n")
    with capture_logs() as logs:
        assert store.reload() is False
    assert store.current is good
    assert store.current.policy_for("finance").limits.max_tokens == 7
    (entry,) = logs
    assert entry["event"] == "policy reload failed"
    assert entry["log_level"] == "error"
    assert entry["problems"] == [
        f'{folder.file("finance")}:2: limits.max_tokens: expected an integer >= 1, got "seven"'
    ]
    assert entry["kept_departments"] == ["default", "finance"]


def test_start_up_fails_with_every_problem(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: nothing\n")
    with pytest.raises(PolicyError, match=r"finance\.yaml:1: extends: no policy named"):
        PolicyStore.open(folder.path)


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (the store changes it from its own task) for up to WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the policy store did not react in time")
        await asyncio.sleep(0.02)


@pytest.mark.anyio
async def test_a_file_change_is_picked_up_while_watching(folder: PolicyFolder) -> None:
    store = PolicyStore(folder.path, PolicyStore.open(folder.path).current, debounce_ms=50)
    await store.start()
    try:
        await asyncio.sleep(0.2)  # let the watcher settle before the first write
        with capture_logs() as logs:
            folder.write("legal", "extends: default\naudit: {content: full, retention_days: 9}\n")
            await wait_until(lambda: "legal" in store.current.departments)
            assert store.current.policy_for("legal").audit.retention_days == 9

            good = store.current
            folder.write("legal", "extends: default\naudit: {content: everything}\n")
            await wait_until(lambda: any(e["event"] == "policy reload failed" for e in logs))
            assert store.current is good
    finally:
        await store.stop()
    assert any(entry["event"] == "policy files changed" for entry in logs)


@pytest.mark.anyio
async def test_sighup_reloads(folder: PolicyFolder) -> None:
    store = PolicyStore.open(folder.path)
    store.install_sighup_handler(asyncio.get_running_loop())
    try:
        folder.write("finance", "extends: default\nlimits: {max_n: 1}\n")
        with capture_logs() as logs:
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_until(lambda: "finance" in store.current.departments)
        assert logs[0]["event"] == "SIGHUP received; reloading policies"
    finally:
        store.remove_sighup_handler()


@pytest.mark.anyio
async def test_stop_ends_the_watch_and_gives_sighup_back(folder: PolicyFolder) -> None:
    store = PolicyStore.open(folder.path)
    await store.start()
    await store.stop()
    original = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what stop() left in place
    signal.signal(signal.SIGHUP, original)
    assert original is signal.SIG_DFL
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "policy-watch"]
