"""The disk under the SQLite audit store fills up: 503s, no inference, no half-written rows.

The gateway's SQLite database lives on a small tmpfs of its own (``mount -t tmpfs``; the
test runs as root, as CI does here, and fails with the reason if it cannot mount). Once the
gateway is serving, a filler file takes every free byte, so SQLite's next write gets
``SQLITE_FULL`` exactly as on a full disk. Requests are then refused with 503 before the
engine runs; after the filler is deleted the gateway answers again without a restart, the
database passes SQLite's integrity check and the audit chain verifies.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fault_gateway import (
    CLEAN_EXIT,
    FaultGateway,
    audit_kinds,
    fault_gateway_env,
    openai_error,
    running_fault_gateway,
)

DISK_BYTES = 16 * 1024 * 1024
TRIES_WHILE_FULL = 60
"""SQLite reuses WAL pages already on disk, so the first few commits may still fit."""
ANSWERED = ["started", "completed"]


@contextlib.contextmanager
def small_disk(mount_point: Path, size: int) -> Iterator[Path]:
    """A tmpfs of ``size`` bytes at ``mount_point``, unmounted afterwards."""
    mount_point.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"this test needs to mount a tmpfs (run as root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk`` with one file; return the file."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1):  # big writes first, then the last bytes
            chunk = b"\0" * size
            try:
                while True:
                    os.write(descriptor, chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(descriptor)
    return filler


def ask_until_refused(gateway: FaultGateway, http: httpx.Client) -> list[httpx.Response]:
    answers: list[httpx.Response] = []
    for _ in range(TRIES_WHILE_FULL):
        answers.append(gateway.ask(http))
        if answers[-1].status_code == 503:
            answers.extend(gateway.ask(http) for _ in range(3))
            answers.append(gateway.ask(http, stream=True))
            break
    return answers


def test_a_full_disk_refuses_with_503_and_the_store_stays_whole(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", DISK_BYTES) as disk:
        database = disk / "enclave.db"
        env = fault_gateway_env(tmp_path, ENCLAVE_DATABASE_URL=f"sqlite:///{database}")
        with running_fault_gateway(env, tmp_path) as gateway:
            with gateway.http() as http:
                before = [gateway.ask(http) for _ in range(3)]
                output_per_answer = gateway.completion_tokens() / len(before)
                filler = fill(disk)
                during = ask_until_refused(gateway, http)
                output_during = gateway.completion_tokens()
                filler.unlink()
                after = [gateway.ask(http) for _ in range(3)]
            assert gateway.stop() in CLEAN_EXIT, gateway.log_text()[-3000:]
        trail = audit_kinds(f"sqlite:///{database}")
        gateway.enclave("audit", "verify")  # fails the test with its report if the chain broke
        with contextlib.closing(sqlite3.connect(database)) as connection:
            integrity = connection.execute("PRAGMA integrity_check").fetchall()

    assert [response.status_code for response in before] == [200, 200, 200]
    refused = [response for response in during if response.status_code == 503]
    answered = [response for response in during if response.status_code == 200]
    assert refused, f"no 503 in {len(during)} requests on a full disk"
    assert len(refused) + len(answered) == len(during), [r.status_code for r in during]
    for response in refused:
        error = openai_error(response)
        assert error["code"] == "audit_unavailable", error
        assert str(disk) not in response.text, "no file paths in error bodies"
        assert "started" not in trail.get(response.headers["x-request-id"], [])
    answered_so_far = len(before) + len(answered)
    assert output_during == pytest.approx(output_per_answer * answered_so_far), (
        "the engine ran for a request that could not be audited"
    )
    assert [response.status_code for response in after] == [200, 200, 200]
    for response in before + answered + after:
        assert trail[response.headers["x-request-id"]] == ANSWERED
    assert integrity == [("ok",)]
    assert "audit" in gateway.log_text().lower()
