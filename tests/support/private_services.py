"""Private Redis and PostgreSQL servers that a test may stop, kill and restart.

The shared servers at 6379/5432 belong to every other test; fault tests start their own
instance on a free port instead and take it down mid-run. Both binaries come with the
machine (``redis-server``; PostgreSQL's ``initdb``/``pg_ctl``). A missing binary fails the
test with the reason; it never skips.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
POSTGRES_USER = "postgres"
"""PostgreSQL refuses to run as root; as root, the cluster runs as this user."""
START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _require_binary(name: str, search: list[Path] | None = None) -> str:
    for folder in search or []:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is required by the fault tests and is not installed", pytrace=False)
    return found


class PrivateRedis:
    """``redis-server`` on a free port, without persistence; ``kill()`` is a crash."""

    def __init__(self) -> None:
        self.port = free_port()
        self._binary = _require_binary("redis-server")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self._binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL: the store vanishes with every counter in it."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


class PrivatePostgres:
    """A PostgreSQL cluster of its own (``initdb`` in a temporary folder, trust on 127.0.0.1).

    ``stop()`` is ``pg_ctl stop -m immediate``: the server dies the way a crash would
    (committed data survives through its WAL); ``start()`` brings it back on the same port.
    """

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.data = folder / "data"
        self._log = folder / "postgres.log"
        self._folder = folder
        self._initdb = _require_binary("initdb", POSTGRES_BIN_DIRS)
        self._pg_ctl = _require_binary("pg_ctl", POSTGRES_BIN_DIRS)

    def url(self, database: str = "enclave") -> str:
        return f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._as_owner([self._initdb, "-D", str(self.data), "-A", "trust", "-U", POSTGRES_USER])

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self._folder} -c fsync=off"
        self._as_owner(
            [
                *(self._pg_ctl, "-D", str(self.data), "-l", str(self._log)),
                *("-o", options, "-w", "-t", "30", "start"),
            ]
        )

    def stop(self) -> None:
        self._as_owner([self._pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def stop_quietly(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()

    def create_database(self, name: str) -> None:
        dsn = f"host=127.0.0.1 port={self.port} user={POSTGRES_USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def log_text(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def _as_owner(self, command: list[str]) -> None:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False, **_owner()
        )
        if done.returncode != 0:
            raise subprocess.CalledProcessError(
                done.returncode, command, done.stdout, done.stderr + self.log_text()[-2000:]
            )


def _owner() -> dict[str, object]:
    """Run PostgreSQL's tools as ``postgres`` when this process is root (it refuses root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": POSTGRES_USER, "group": POSTGRES_USER, "extra_groups": []}


@contextlib.contextmanager
def private_postgres(database: str = "enclave") -> Iterator[PrivatePostgres]:
    """A running private cluster with an empty ``database``; stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="enclave-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(POSTGRES_USER)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(folder)
    try:
        server.init()
        server.start()
        server.create_database(database)
        yield server
    finally:
        server.stop_quietly()
        shutil.rmtree(folder, ignore_errors=True)
