"""Two gateway processes sharing PostgreSQL, Redis and a policy folder act as one gateway.

A tenant's quota means the same as with one replica; a token revoked through one replica is
refused by the other within seconds; a policy edit reaches both; each replica appends to an
audit chain of its own and both verify.

The replicas run the whole gateway (TLS, JWT, policy, rate limits) around the explicit
instant benchmark engine, so the test measures the gates, not inference.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import text

from gateway.db.engine import create_db_engine
from gateway.tls.certs import init_dev_certs
from tests.e2e.conftest import free_port, prepare_identity, run_cli, wait_until_ready
from tests.support.databases import fresh_postgres_schema, throwaway_postgres_database
from tests.support.policies import default_policy_with_rates
from tests.support.workspace import start_gateway, workspace_env

QUOTA = 100
SENT = 10 * QUOTA
CLIENTS = 40
CHAT_PATH = "/v1/chat/completions"
CHAT = {"model": "instant", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def quota_policies(folder: Path) -> Path:
    """The shipped default policy with a per-tenant quota of QUOTA requests per minute."""
    return default_policy_with_rates(
        folder,
        tenant={"requests_per_minute": QUOTA, "burst": 5000, "concurrent_requests": 500},
        department={"requests_per_minute": 100000, "burst": 5000, "concurrent_requests": 500},
    )


@dataclass(frozen=True)
class Replicas:
    urls: list[str]
    env: dict[str, str]
    ca: Path
    policies: Path

    def token(self, tenant: str, roles: str = "app") -> str:
        """A token for ``tenant`` (created in the engineering department if it is new)."""
        run_cli(
            self.env, "tenants", "create", tenant, "--department", "engineering", "--if-missing"
        )
        return run_cli(
            self.env, "tokens", "issue", "--tenant", tenant, "--roles", roles, "--ttl", "1h", "-q"
        )

    def client(self, token: str) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"}
        return httpx.Client(verify=str(self.ca), headers=headers, timeout=30)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Two gateway processes sharing one PostgreSQL database, one Redis and one policy folder."""
    work = tmp_path_factory.mktemp("replicas")
    certs = init_dev_certs(work / "certs")
    with throwaway_postgres_database() as dsn:
        env = {
            **os.environ,
            "ENCLAVE_ENGINE": "instant",
            "ENCLAVE_SERVED_MODEL_NAME": "instant",
            **workspace_env(work),
            "ENCLAVE_DATABASE_URL": fresh_postgres_schema(dsn),
            "ENCLAVE_POLICIES_DIR": str(quota_policies(work / "policies")),
            "ENCLAVE_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
            "ENCLAVE_RATE_LIMIT_KEY_PREFIX": f"enclave-replicas-{uuid.uuid4().hex[:8]}",
            "ENCLAVE_LOG_LEVEL": "warning",
        }
        prepare_identity(env)
        processes, urls = [], []
        for number in range(2):
            port = free_port()
            replica_env = {
                **env,
                "ENCLAVE_PORT": str(port),
                "ENCLAVE_METRICS_PORT": str(free_port()),
            }
            processes.append(start_gateway(replica_env, work / f"replica{number}.log"))
            urls.append(f"https://127.0.0.1:{port}")
        try:
            for number, (process, url) in enumerate(zip(processes, urls, strict=True)):
                wait_until_ready(process, url, certs.ca_cert, work / f"replica{number}.log")
            yield Replicas(urls, env, certs.ca_cert, work / "policies")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)


async def send_all(urls: list[str], token: str, ca: Path) -> list[int]:
    body = {"model": "instant", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(SENT):
        queue.put_nowait(number)
    statuses: list[int] = []
    failures: list[str] = []

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            number = queue.get_nowait()
            url = urls[number % len(urls)]
            response = await http.post(f"{url}/v1/chat/completions", json=body)
            statuses.append(response.status_code)
            if response.status_code not in (200, 429):
                failures.append(response.text[:300])

    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(verify=str(ca), headers=headers, timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
    assert not failures, failures[:3]
    return statuses


def wait_for_room_in_this_minute(seconds_needed: float = 25.0) -> None:
    """Quotas are per clock minute (fixed windows): keep the whole burst inside one minute."""
    left = 60.0 - time.time() % 60.0
    if left < seconds_needed:
        time.sleep(left + 0.5)


def test_ten_times_the_quota_through_two_replicas(replicas: Replicas) -> None:
    token = replicas.token("quota")
    wait_for_room_in_this_minute()
    statuses = asyncio.run(send_all(replicas.urls, token, replicas.ca))
    admitted = statuses.count(200)
    print(f"quota {QUOTA}, sent {SENT}, admitted {admitted} ({admitted / QUOTA:.0%})")
    assert set(statuses) <= {200, 429}, sorted(set(statuses))
    assert len(statuses) == SENT
    assert admitted <= QUOTA, f"{admitted} admitted over a quota of {QUOTA}"
    assert admitted >= 0.98 * QUOTA, f"only {admitted} of {QUOTA} admitted"


def until(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``condition()`` held (polled every 0.1 s); fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not so after {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_token_revoked_through_one_replica_is_refused_by_the_other(replicas: Replicas) -> None:
    first, second = replicas.urls
    victim = replicas.token("revoked")
    jti = jwt.decode(victim, options={"verify_signature": False})["jti"]
    admin = replicas.token("operations", roles="admin")
    with replicas.client(victim) as app, replicas.client(admin) as operator:
        assert [
            app.post(f"{url}{CHAT_PATH}", json=CHAT).status_code for url in (first, second)
        ] == [200, 200]
        revoked = operator.post(f"{first}/admin/tokens/{jti}/revoke")
        assert revoked.status_code == 200, revoked.text

        def refused_by_second() -> bool:
            answer = app.post(f"{second}{CHAT_PATH}", json=CHAT)
            return answer.status_code == 401 and answer.json()["error"]["code"] == "token_revoked"

        took = until(refused_by_second, timeout=5)
        assert app.post(f"{first}{CHAT_PATH}", json=CHAT).status_code == 401
    print(f"revoked through replica 1, refused by replica 2 after {took:.2f} s")


def test_a_policy_edit_reaches_both_replicas(replicas: Replicas) -> None:
    policy = replicas.policies / "default.yaml"
    original = policy.read_text()
    asking = {**CHAT, "max_tokens": 16}
    with replicas.client(replicas.token("policy")) as app:
        assert [
            app.post(f"{url}{CHAT_PATH}", json=asking).status_code for url in replicas.urls
        ] == [200, 200]
        policy.write_text(re.sub(r"(?m)^  max_tokens: \d+", "  max_tokens: 8", original))
        try:
            for url in replicas.urls:

                def refused(url: str = url) -> bool:
                    answer = app.post(f"{url}{CHAT_PATH}", json=asking)
                    return (
                        answer.status_code == 400
                        and answer.json()["error"]["code"] == "policy_violation"
                    )

                until(refused, timeout=15)
        finally:
            policy.write_text(original)
        for url in replicas.urls:
            until(
                lambda url=url: app.post(f"{url}{CHAT_PATH}", json=asking).status_code == 200,
                timeout=15,
            )


def test_each_replica_writes_its_own_chain_and_both_verify(replicas: Replicas) -> None:
    with replicas.client(replicas.token("chains")) as app:
        request_ids = {
            url: [
                app.post(f"{url}{CHAT_PATH}", json=CHAT).headers["x-request-id"] for _ in range(3)
            ]
            for url in replicas.urls
        }
    database = create_db_engine(replicas.env["ENCLAVE_DATABASE_URL"])
    try:
        with database.connect() as connection:
            rows = connection.execute(text("SELECT request_id, chain_id FROM audit_events")).all()
    finally:
        database.dispose()
    chain_of = {str(request_id): str(chain) for request_id, chain in rows if request_id}
    chains = [{chain_of[request_id] for request_id in ids} for ids in request_ids.values()]
    assert all(len(chain) == 1 for chain in chains), chains
    assert chains[0] != chains[1], "each replica appends to a chain of its own"
    report = json.loads(run_cli(replicas.env, "audit", "verify", "--json"))  # exit 0: ok
    verified = {chain["chain_id"] for chain in report["chains"] if chain["problem"] is None}
    assert {*chains[0], *chains[1]} <= verified, report
