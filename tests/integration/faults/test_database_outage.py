"""The database dies under a running gateway: 503s, no inference, then recovery.

A private PostgreSQL cluster (its own ``initdb``, its own port) holds the gateway's
identities and audit trail; the test stops it with ``pg_ctl stop -m immediate`` (the way a
crash or a failover looks from the gateway) while the real server keeps serving, then
starts it again. The shared PostgreSQL other tests use is never touched.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.fault_gateway import (
    CLEAN_EXIT,
    audit_kinds,
    fault_gateway_env,
    openai_error,
    running_fault_gateway,
)
from tests.support.private_services import private_postgres

OUTAGE_CODES = {"identity_store_unavailable", "audit_unavailable"}
"""Which gate notices first: token checks read the database before the audit writes to it."""


def test_database_down_means_503_and_no_inference_then_recovery(tmp_path: Path) -> None:
    with private_postgres() as postgres:
        env = fault_gateway_env(tmp_path, ENCLAVE_DATABASE_URL=postgres.url())
        with running_fault_gateway(env, tmp_path) as gateway:
            with gateway.http() as http:
                before = [gateway.ask(http) for _ in range(3)]
                engine_output = gateway.completion_tokens()
                postgres.stop()
                during = [gateway.ask(http) for _ in range(5)]
                during.append(gateway.ask(http, stream=True))
                readiness = http.get("/readyz")
                engine_output_during = gateway.completion_tokens()
                postgres.start()
                after = [gateway.ask(http) for _ in range(3)]
            assert gateway.stop() in CLEAN_EXIT, gateway.log_text()[-3000:]
        trail = audit_kinds(postgres.url())
        gateway.enclave("audit", "verify")  # fails the test with its report if the chain broke
    log = gateway.log_text()

    assert [response.status_code for response in before] == [200, 200, 200]
    assert [response.status_code for response in during] == [503] * len(during)
    for response in during:
        error = openai_error(response)
        assert error["code"] in OUTAGE_CODES, error
        assert "postgres" not in response.text.lower()
        assert str(postgres.port) not in response.text
    assert engine_output_during == engine_output, "the engine ran while nothing could be audited"
    assert readiness.status_code == 503
    assert readiness.json()["checks"]["database"]["ready"] is False
    assert [response.status_code for response in after] == [200, 200, 200]

    for response in before + after:
        assert trail[response.headers["x-request-id"]] == ["started", "completed"]
    for response in during:
        assert "started" not in trail.get(response.headers["x-request-id"], [])
    assert "identity store unavailable" in log, "refusals while the database is down are logged"
