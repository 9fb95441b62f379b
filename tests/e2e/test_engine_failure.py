"""The vLLM engine dies in the middle of a stream: an error event, not-ready, an audited failure.

The gateway runs the real vLLM engine on the tiny model; its engine core is a child
process. While a long stream is generating, the test kills that process (SIGKILL, as the
kernel's OOM killer or a GPU fault would). What a client and an operator notice: the stream
ends with a 503 ``engine_unavailable`` error event and ``data: [DONE]`` (never a cut
connection), ``/readyz`` turns 503 naming the engine, the next request gets 503 in OpenAI's
envelope, the gateway keeps running and exits cleanly on SIGTERM, and the audit trail
records the stream as ``failed`` (no request left ``started``), with the chain intact.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from gateway.tls.certs import init_dev_certs
from tests.e2e.conftest import SERVED_NAME, prepare_identity, run_cli, wait_until_ready
from tests.support.vllm_gateway import (
    audit_outcomes,
    command_line,
    descendants,
    stop_gateway,
    vllm_gateway_env,
)
from tests.support.workspace import start_gateway

pytestmark = pytest.mark.e2e

READINESS_POLLS = 100
EXIT_TIMEOUT_SECONDS = 90


def engine_core(gateway_pid: int) -> int:
    """The pid of vLLM's engine core process below the gateway."""
    cores = [pid for pid in descendants(gateway_pid) if "EngineCore" in command_line(pid)]
    assert cores, {pid: command_line(pid) for pid in descendants(gateway_pid)}
    return cores[0]


def stream_until_killed(http: httpx.Client, victim: int) -> tuple[str, list[dict[str, object]]]:
    """Stream a long answer, kill ``victim`` after the first chunk; the request id and
    every event seen (``{"done": True}`` for ``[DONE]``)."""
    body = {
        "model": SERVED_NAME,
        "messages": [{"role": "user", "content": "a very long story, please"}],
        "max_tokens": 1800,
        "stream": True,
    }
    events: list[dict[str, object]] = []
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, response.read()
        request_id = response.headers["x-request-id"]
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            payload = line.removeprefix("data: ")
            events.append({"done": True} if payload == "[DONE]" else json.loads(payload))
            if len(events) == 1:
                os.kill(victim, signal.SIGKILL)
    return request_id, events


def readiness_after_failure(http: httpx.Client) -> httpx.Response:
    for _ in range(READINESS_POLLS):
        response = http.get("/readyz")
        if response.status_code == 503:
            return response
        time.sleep(0.1)
    pytest.fail(f"/readyz stayed {response.status_code} after the engine died: {response.text}")


def test_engine_death_mid_stream_ends_the_stream_and_is_audited(tmp_path: Path) -> None:
    init_dev_certs(tmp_path / "certs")
    env = vllm_gateway_env(tmp_path, ENCLAVE_MAX_MODEL_LEN="2048")
    token = prepare_identity(env)
    url, ca = f"https://127.0.0.1:{env['ENCLAVE_PORT']}", tmp_path / "certs" / "ca.pem"
    log_file = tmp_path / "server.log"
    process = start_gateway(env, log_file)
    try:
        wait_until_ready(process, url, ca, log_file)
        victim = engine_core(process.pid)
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, verify=str(ca), headers=headers, timeout=60) as http:
            request_id, events = stream_until_killed(http, victim)
            readiness = readiness_after_failure(http)
            chat = {"model": SERVED_NAME, "messages": [{"role": "user", "content": "hi"}]}
            after = http.post("/v1/chat/completions", json=chat)
        still_serving = process.poll() is None
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=EXIT_TIMEOUT_SECONDS)
    finally:
        stop_gateway(process)
    log = log_file.read_text(errors="replace")

    errors = [event["error"] for event in events if "error" in event]
    assert len(errors) == 1, events[-3:]
    error = errors[0]
    assert isinstance(error, dict)
    assert error["code"] == "engine_unavailable", error
    assert events[-1] == {"done": True}, "the stream ends with [DONE], not a cut connection"
    assert readiness.json()["checks"]["engine"]["ready"] is False, readiness.text
    assert after.status_code == 503, after.text
    assert after.json()["error"]["code"] == "engine_unavailable"
    assert "Traceback" not in after.text
    assert still_serving, "the gateway itself survives its engine"
    assert code in (0, -signal.SIGTERM), log[-4000:]

    by_request = audit_outcomes(env)
    kinds = sorted(str(record["kind"]) for record in by_request[request_id])
    assert kinds == ["failed", "started"], by_request[request_id]
    (failed,) = [r for r in by_request[request_id] if r["kind"] == "failed"]
    assert failed["status"] == 503
    assert failed["reasons"] == ["engine_error"]
    left_open = [
        r for r, records in by_request.items() if {x["kind"] for x in records} == {"started"}
    ]
    assert not left_open, f"requests left started without an outcome: {left_open}"
    run_cli(env, "audit", "verify")
