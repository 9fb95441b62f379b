"""SIGKILL the gateway in the middle of streaming requests, restart it: the trail still holds.

Every request that got a response (the client saw ``x-request-id``) has a ``started`` record
and exactly one outcome after the restart; the requests the kill interrupted are
``incomplete`` (reason ``writer_died``); every stream the client saw to ``[DONE]`` is
``completed``; ``enclave audit verify`` passes. The gateway runs the whole request path
around the explicit instant benchmark engine, so requests are in flight only inside the
gateway's own gates (the audit commits among them), which is where a crash must not lose
a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.tls.certs import init_dev_certs
from tests.e2e.conftest import free_port, prepare_identity, wait_until_ready
from tests.support.policies import default_policy_with_rates
from tests.support.workspace import start_gateway, workspace_env

REPO = Path(__file__).resolve().parents[2]
REQUESTS = 200
CLIENTS = 32
KILL_AFTER = 100
"""Responses (headers) received before the SIGKILL."""
ATTEMPTS = 3
OUTCOMES = ("completed", "failed", "refused", "incomplete")


@dataclass
class Seen:
    """What one client saw of one streaming request."""

    request_id: str | None = None
    status: int | None = None
    done: bool = False
    """The stream reached ``data: [DONE]``."""
    error: str | None = None


OUT_OF_REACH = {
    "requests_per_minute": 1000000,
    "tokens_per_minute": 100000000,
    "burst": 100000,
    "concurrent_requests": 10000,
}


def high_rate_policies(folder: Path) -> Path:
    """The shipped default policy with per-tenant and per-department limits far out of reach."""
    return default_policy_with_rates(folder, tenant=OUT_OF_REACH, department=OUT_OF_REACH)


def sigkill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the gateway's whole process group (once) and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@contextlib.contextmanager
def running(env: dict[str, str], log_file: Path, ca: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A ready gateway; killed on the way out if the test left it running."""
    process = start_gateway(env, log_file, new_session=True)
    try:
        wait_until_ready(process, f"https://127.0.0.1:{env['ENCLAVE_PORT']}", ca, log_file)
        yield process
    finally:
        if process.poll() is None:
            sigkill(process)


async def stream_until_killed(
    url: str, token: str, ca: Path, requests: int, clients: int, kill: Callable[[], None]
) -> list[Seen]:
    """Send ``requests`` streaming requests from ``clients`` at once; ``kill`` on the
    ``KILL_AFTER``-th response, then let every client run into the dead server."""
    body = {
        "model": "instant",
        "messages": [{"role": "user", "content": "Tell me a long story."}],
        "max_tokens": 512,
        "stream": True,
    }
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(requests):
        queue.put_nowait(number)
    seen: list[Seen] = []
    responses = 0

    async def one(http: httpx.AsyncClient, record: Seen) -> None:
        nonlocal responses
        async with http.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
            record.status = response.status_code
            record.request_id = response.headers.get("x-request-id")
            responses += 1
            if responses == KILL_AFTER:
                kill()
            async for line in response.aiter_lines():
                if line.strip() == "data: [DONE]":
                    record.done = True

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            record = Seen()
            seen.append(record)
            try:
                await one(http, record)
            except httpx.HTTPError as exc:
                record.error = type(exc).__name__

    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        verify=str(ca), headers=headers, timeout=30, limits=limits
    ) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return seen


def audit_rows(database: Path) -> list[tuple[str, str | None, str | None, int | None]]:
    """(kind, request_id, reasons, status) of every audit event, in insertion order."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT kind, request_id, reasons, status FROM audit_events ORDER BY id"
        ).fetchall()
    return [(str(k), r, reasons, status) for k, r, reasons, status in rows]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[dict[str, str], str, Path]:
    certs = init_dev_certs(tmp_path / "certs")
    env = {
        **os.environ,
        "ENCLAVE_ENGINE": "instant",
        "ENCLAVE_SERVED_MODEL_NAME": "instant",
        **workspace_env(tmp_path),
        "ENCLAVE_PORT": str(free_port()),
        "ENCLAVE_METRICS_PORT": str(free_port()),
        "ENCLAVE_POLICIES_DIR": str(high_rate_policies(tmp_path / "policies")),
        "ENCLAVE_RATE_LIMIT_STORAGE": "memory://",
        "ENCLAVE_LOG_LEVEL": "warning",
    }
    token = prepare_identity(env)
    return env, token, certs.ca_cert


def test_sigkill_mid_stream_leaves_a_complete_verifiable_trail(
    setup: tuple[dict[str, str], str, Path], tmp_path: Path
) -> None:
    env, token, ca = setup
    url = f"https://127.0.0.1:{env['ENCLAVE_PORT']}"
    database = tmp_path / "enclave.db"
    seen: list[Seen] = []
    requests, clients = REQUESTS, CLIENTS
    kills = incomplete_after_restart = 0
    while True:
        log_file = tmp_path / f"run{kills}.log"
        with running(env, log_file, ca) as process:
            # Start-up (before /readyz answers) settled the chain the last kill left behind.
            incomplete_after_restart = sum(
                kind == "incomplete" for kind, *_ in audit_rows(database)
            )
            if (kills and incomplete_after_restart) or kills == ATTEMPTS:
                process.send_signal(signal.SIGTERM)
                # uvicorn re-raises the signal once it has shut down cleanly.
                assert process.wait(timeout=60) in (0, -signal.SIGTERM), log_file.read_text()
                break
            kill = functools.partial(sigkill, process)
            batch = asyncio.run(stream_until_killed(url, token, ca, requests, clients, kill))
            assert process.returncode == -signal.SIGKILL, log_file.read_text()[-4000:]
        seen.extend(batch)
        kills += 1
        print(
            f"kill {kills}: {len(batch)} requests sent by {clients} clients, "
            f"{sum(s.request_id is not None for s in batch)} responses, "
            f"{sum(s.done for s in batch)} streams finished, "
            f"{sum(s.request_id is not None and not s.done for s in batch)} interrupted mid-stream"
        )
        requests, clients = 2 * requests, 2 * clients
    assert incomplete_after_restart, f"nothing was in flight at any of {ATTEMPTS} kills"
    interrupted = [s for s in seen if s.request_id is not None and not s.done]

    responded = [s for s in seen if s.request_id is not None]
    assert {s.status for s in responded} == {200}
    rows = audit_rows(database)
    started = [r for kind, r, _, _ in rows if kind == "started" and r is not None]
    outcomes: dict[str, list[str]] = {}
    reasons: dict[str, str | None] = {}
    for kind, request_id, why, _ in rows:
        if kind in OUTCOMES and request_id is not None:
            outcomes.setdefault(request_id, []).append(kind)
            reasons[request_id] = why
    incomplete = [r for r, kinds in outcomes.items() if kinds == ["incomplete"]]
    print(
        f"{len(responded)} responses seen, {len(interrupted)} interrupted mid-stream; "
        f"{len(started)} started in the trail, {len(incomplete)} incomplete after the restart"
    )

    # (1) Every request that got a response has a started record and an outcome.
    started_ids = set(started)
    missing = [s.request_id for s in responded if s.request_id not in started_ids]
    assert not missing, f"{len(missing)} answered requests have no started record: {missing[:3]}"
    unsettled = [s.request_id for s in responded if s.request_id not in outcomes]
    assert not unsettled, f"{len(unsettled)} answered requests have no outcome: {unsettled[:3]}"
    # (2) Every started record has exactly one outcome; nothing has an outcome without a start.
    assert len(started) == len(started_ids), "a request id was started twice"
    wrong = {r: outcomes.get(r, []) for r in started_ids if len(outcomes.get(r, [])) != 1}
    assert not wrong, f"{len(wrong)} started requests without exactly one outcome: {wrong}"
    assert set(outcomes) == started_ids
    # A stream the client saw to the end was acknowledged only once its outcome was durable.
    for record in seen:
        if record.done:
            assert record.request_id is not None
            assert outcomes[record.request_id] == ["completed"], record
    # (3) The interrupted requests are completed (committed just before the kill) or
    # incomplete, marked by the restart as the dead writer's; at least one is incomplete.
    for record in interrupted:
        assert record.request_id is not None
        assert outcomes[record.request_id][0] in ("completed", "incomplete"), record
    assert incomplete, "no request was marked incomplete"
    for request_id in incomplete:
        assert reasons[request_id] == '["writer_died"]', reasons[request_id]
    # (4) The whole trail verifies.
    verified = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "audit", "verify"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
