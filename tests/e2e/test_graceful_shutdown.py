"""SIGTERM while streams are running: the gateway drains, ends cleanly and exits 0.

What an operator and a client notice: after SIGTERM new connections are refused at once
(the listener closes, so readiness cannot be asked any more: Kubernetes takes the pod out
of its endpoints on termination anyway); streams that can finish within
``ENCLAVE_SHUTDOWN_GRACE_SECONDS`` do, to ``[DONE]``; those that cannot end with a 503
``server_shutting_down`` error event and ``[DONE]``, never with a cut connection; the
process exits 0 soon after, with the vLLM engine's processes gone; the audit trail has an
outcome for every request (completed or failed, none left started or incomplete) and
``enclave audit verify`` passes.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gateway.shutdown import BACKSTOP_SECONDS
from gateway.tls.certs import init_dev_certs
from tests.e2e.conftest import SERVED_NAME, prepare_identity, run_cli, wait_until_ready
from tests.support.vllm_gateway import (
    audit_outcomes,
    command_line,
    descendants,
    stop_gateway,
    survivors,
    vllm_gateway_env,
)
from tests.support.workspace import start_gateway

pytestmark = pytest.mark.e2e

GRACE_SECONDS = 6
LONG_STREAMS = 4
"""4 choices of up to 1,800 tokens each: far more than the grace period allows here."""
SHORT_STREAMS = 3
"""2 choices of up to 60 tokens each: done within a second or two of the signal."""
ENGINE_STOP_MARGIN_SECONDS = 30
REFUSAL_POLLS = 100


@dataclass
class Seen:
    """What one streaming client saw."""

    kind: str
    request_id: str = ""
    chunks: int = 0
    chunks_after_sigterm: int = 0
    finish_reasons: list[str] = field(default_factory=list)
    error_code: str | None = None
    done: bool = False


@dataclass
class Shutdown:
    process: subprocess.Popen[bytes]
    port: int
    log_file: Path
    signalled: bool = False
    signalled_at: float = 0.0
    first_chunks: list[asyncio.Event] = field(default_factory=list)


@pytest.fixture
def gateway_env(tmp_path: Path) -> dict[str, str]:
    init_dev_certs(tmp_path / "certs")
    env = vllm_gateway_env(
        tmp_path,
        ENCLAVE_MAX_MODEL_LEN="2048",
        ENCLAVE_SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS),
    )
    env["TEST_TOKEN"] = prepare_identity(env)
    return env


async def stream(
    http: httpx.AsyncClient, url: str, seen: Seen, run: Shutdown, first: asyncio.Event
) -> None:
    n, max_tokens = (4, 1800) if seen.kind == "long" else (2, 60)
    body = {
        "model": SERVED_NAME,
        "messages": [{"role": "user", "content": f"a {seen.kind} story, please"}],
        "max_tokens": max_tokens,
        "n": n,
        "stream": True,
    }
    async with http.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, await response.aread()
        seen.request_id = response.headers["x-request-id"]
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            payload = line.removeprefix("data: ")
            if payload == "[DONE]":
                seen.done = True
                continue
            event = json.loads(payload)
            if "error" in event:
                seen.error_code = event["error"]["code"]
                continue
            seen.chunks += 1
            seen.chunks_after_sigterm += run.signalled
            seen.finish_reasons += [
                c["finish_reason"] for c in event["choices"] if c["finish_reason"]
            ]
            first.set()


def refused_at_once(port: int) -> bool:
    """Whether a new TCP connection to the HTTPS port is refused now."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


async def sigterm_mid_stream(
    run: Shutdown, url: str, token: str, ca: Path
) -> tuple[list[Seen], int]:
    """Start every stream, SIGTERM once each has output; the streams still open when a new
    connection was first refused."""
    seen = [Seen("long") for _ in range(LONG_STREAMS)] + [
        Seen("short") for _ in range(SHORT_STREAMS)
    ]
    run.first_chunks = [asyncio.Event() for _ in seen]
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(verify=str(ca), headers=headers, timeout=120) as http:
        tasks = [
            asyncio.create_task(stream(http, url, one, run, first))
            for one, first in zip(seen, run.first_chunks, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in run.first_chunks)), 120)
        run.signalled, run.signalled_at = True, time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        for _ in range(REFUSAL_POLLS):  # a closed listener sends no event
            if await asyncio.to_thread(refused_at_once, run.port):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("new connections were still accepted well after SIGTERM")
        open_when_refused = sum(not task.done() for task in tasks)
        await asyncio.gather(*tasks)
    return seen, open_when_refused


def test_sigterm_drains_streams_flushes_audit_and_exits_zero(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    env, port = gateway_env, int(gateway_env["ENCLAVE_PORT"])
    url, ca, log_file = (
        f"https://127.0.0.1:{port}",
        tmp_path / "certs" / "ca.pem",
        tmp_path / "server.log",
    )
    process = start_gateway(env, log_file)
    try:
        wait_until_ready(process, url, ca, log_file)
        engine_processes = {pid: command_line(pid) for pid in descendants(process.pid)}
        run = Shutdown(process, port, log_file)
        seen, open_when_refused = asyncio.run(sigterm_mid_stream(run, url, env["TEST_TOKEN"], ca))
        code = process.wait(timeout=GRACE_SECONDS + BACKSTOP_SECONDS + ENGINE_STOP_MARGIN_SECONDS)
        took = time.monotonic() - run.signalled_at
    finally:
        stop_gateway(process)
    log = log_file.read_text(errors="replace")
    ended = [s for s in seen if s.error_code is not None]
    finished = [s for s in seen if s.error_code is None]
    print(
        f"exit {code} {took:.1f}s after SIGTERM (grace {GRACE_SECONDS}s); {len(finished)} "
        f"streams finished, {len(ended)} ended by the shutdown; chunks after SIGTERM: "
        f"{[s.chunks_after_sigterm for s in seen]}; {open_when_refused} streams open when "
        f"new connections were refused"
    )

    assert code == 0, log[-4000:]
    assert open_when_refused > 0, "new connections must be refused while streams still run"
    assert any(s.chunks_after_sigterm for s in seen), "streams kept streaming after SIGTERM"
    assert all(s.done for s in seen), "every stream ends with [DONE], none is cut"
    for one in finished:
        assert len(one.finish_reasons) == (4 if one.kind == "long" else 2), one
    assert any(s.kind == "short" and s.chunks_after_sigterm for s in finished), (
        "a short stream running at SIGTERM finishes within the grace period"
    )
    assert ended, "the long streams outlast the grace period and are ended"
    assert {s.error_code for s in ended} == {"server_shutting_down"}
    assert engine_processes, "vLLM runs its engine core in a child process"
    assert not survivors(set(engine_processes)), "the engine's processes exit with the gateway"
    assert "audit chain closed" in log
    assert "engine stopped" in log

    by_request = audit_outcomes(env)
    for one in seen:
        kinds = sorted(str(record["kind"]) for record in by_request[one.request_id])
        expected = "failed" if one.error_code else "completed"
        assert kinds == sorted(["started", expected]), (one, kinds)
        if one.error_code:
            (failed,) = [r for r in by_request[one.request_id] if r["kind"] == "failed"]
            assert failed["status"] == 503
            assert failed["reasons"] == ["server_shutting_down"]
    left_open = [
        r
        for r, records in by_request.items()
        if len(records) == 1 and records[0]["kind"] == "started"
    ]
    assert not left_open, f"requests left started without an outcome: {left_open}"
    assert not any(
        rec["kind"] == "incomplete" for records in by_request.values() for rec in records
    )
    run_cli(env, "audit", "verify")
