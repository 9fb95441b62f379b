"""Redis, the shared rate-limit store, crashes under a running gateway: 503s, then recovery.

A private ``redis-server`` holds the counters of a real ``enclave serve``; the test kills it
(SIGKILL: every counter gone) while the gateway keeps serving, then starts a new one on the
same port. What must hold (fail closed, the default): while the store is gone every
inference request is refused with 503 ``rate_limit_store_unavailable`` at once, the engine
does no work, readiness names the store, every refusal is audited; once the store is back
the gateway answers again without a restart. The shared Redis other tests use is never
touched.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.fault_gateway import (
    CLEAN_EXIT,
    audit_kinds,
    fault_gateway_env,
    openai_error,
    running_fault_gateway,
)
from tests.support.private_services import private_redis

QUICK_REFUSAL_SECONDS = 5.0
"""A refusal must not wait long on a store that is gone (the store timeout is 2 s)."""
RECOVERY_TRIES = 50


def test_redis_down_means_503_and_no_inference_then_recovery(tmp_path: Path) -> None:
    with private_redis() as redis:
        env = fault_gateway_env(tmp_path, ENCLAVE_RATE_LIMIT_STORAGE=redis.url)
        with running_fault_gateway(env, tmp_path) as gateway:
            with gateway.http() as http:
                before = [gateway.ask(http) for _ in range(3)]
                engine_output = gateway.completion_tokens()
                redis.kill()
                started = time.monotonic()
                during = [gateway.ask(http) for _ in range(4)]
                during.append(gateway.ask(http, stream=True))
                took = (time.monotonic() - started) / len(during)
                readiness = http.get("/readyz")
                engine_output_during = gateway.completion_tokens()
                redis.start()
                after = [gateway.ask(http)]
                for _ in range(RECOVERY_TRIES):
                    if after[-1].status_code == 200:
                        break
                    time.sleep(0.2)
                    after.append(gateway.ask(http))
            assert gateway.stop() in CLEAN_EXIT, gateway.log_text()[-3000:]
        trail = audit_kinds(env["ENCLAVE_DATABASE_URL"])
        gateway.enclave("audit", "verify")

    assert [response.status_code for response in before] == [200, 200, 200]
    assert [response.status_code for response in during] == [503] * len(during)
    for response in during:
        error = openai_error(response)
        assert error["code"] == "rate_limit_store_unavailable", error
        assert str(redis.port) not in response.text, "no addresses in error bodies"
        assert trail[response.headers["x-request-id"]] == ["refused"]
    assert took < QUICK_REFUSAL_SECONDS, f"{took:.1f} s per refusal"
    assert engine_output_during == engine_output, "the engine ran while quotas were unknown"
    assert readiness.status_code == 503
    assert readiness.json()["checks"]["rate_limit_store"]["ready"] is False, readiness.text
    assert after[-1].status_code == 200, after[-1].text
    assert trail[after[-1].headers["x-request-id"]] == ["started", "completed"]
