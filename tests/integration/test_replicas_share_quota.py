"""Two gateway processes behind one Redis: a tenant's quota means the same as with one.

The replicas run the whole gateway (TLS, JWT, policy, rate limits) around the explicit
instant benchmark engine, so the test measures the gates, not inference.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.tls.certs import init_dev_certs
from tests.e2e.conftest import free_port, prepare_identity, wait_until_ready
from tests.support.policies import default_policy_with_rates

REPO = Path(__file__).resolve().parents[2]
QUOTA = 100
SENT = 10 * QUOTA
CLIENTS = 40


def quota_policies(folder: Path) -> Path:
    """The shipped default policy with a per-tenant quota of QUOTA requests per minute."""
    return default_policy_with_rates(
        folder,
        tenant={"requests_per_minute": QUOTA, "burst": 5000, "concurrent_requests": 500},
        department={"requests_per_minute": 100000, "burst": 5000, "concurrent_requests": 500},
    )


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[list[str], str, Path]]:
    certs = init_dev_certs(tmp_path / "certs")
    env = {
        **os.environ,
        "ENCLAVE_ENGINE": "instant",
        "ENCLAVE_SERVED_MODEL_NAME": "instant",
        "ENCLAVE_CERTS_DIR": str(tmp_path / "certs"),
        "ENCLAVE_DATABASE_URL": f"sqlite:///{tmp_path / 'enclave.db'}",
        "ENCLAVE_KEYS_DIR": str(tmp_path / "keys"),
        "ENCLAVE_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "keys" / "audit" / "signing-key.pem"),
        "ENCLAVE_AUDIT_CONTENT_KEY_FILE": str(tmp_path / "keys" / "audit" / "content.key"),
        "ENCLAVE_POLICIES_DIR": str(quota_policies(tmp_path / "policies")),
        "ENCLAVE_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "ENCLAVE_RATE_LIMIT_KEY_PREFIX": f"enclave-replicas-{uuid.uuid4().hex[:8]}",
        "ENCLAVE_LOG_LEVEL": "warning",
    }
    token = prepare_identity(env)
    processes, urls = [], []
    for number in range(2):
        port = free_port()
        with (tmp_path / f"replica{number}.log").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gateway.cli.main", "serve"],
                    cwd=REPO,
                    env={
                        **env,
                        "ENCLAVE_PORT": str(port),
                        "ENCLAVE_METRICS_PORT": str(free_port()),
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        urls.append(f"https://127.0.0.1:{port}")
    try:
        for number, (process, url) in enumerate(zip(processes, urls, strict=True)):
            wait_until_ready(process, url, certs.ca_cert, tmp_path / f"replica{number}.log")
        yield urls, token, certs.ca_cert
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


def test_ten_times_the_quota_through_two_replicas(replicas: tuple[list[str], str, Path]) -> None:
    urls, token, ca = replicas
    wait_for_room_in_this_minute()
    statuses = asyncio.run(send_all(urls, token, ca))
    admitted = statuses.count(200)
    print(f"quota {QUOTA}, sent {SENT}, admitted {admitted} ({admitted / QUOTA:.0%})")
    assert set(statuses) <= {200, 429}, sorted(set(statuses))
    assert len(statuses) == SENT
    assert admitted <= QUOTA, f"{admitted} admitted over a quota of {QUOTA}"
    assert admitted >= 0.98 * QUOTA, f"only {admitted} of {QUOTA} admitted"
