"""Replicas in separate OS processes share one quota through Redis."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from gateway.errors import RateLimitedError
from gateway.ratelimit import Quota, QuotaScope
from tests.integration.ratelimit.conftest import OpenLimiter
from tests.unit.ratelimit.clock import TEN_SECONDS_IN

REPO = Path(__file__).resolve().parents[3]
WORKER = "tests.integration.ratelimit.replica_worker"
QUOTA = 300
REPLICAS = 2
CLIENTS_PER_REPLICA = 50
REQUESTS_PER_CLIENT = 30  # 2 x 50 x 30 = 3,000 requests: 10x the quota
WORKER_TIMEOUT_SECONDS = 60


def worker_command(redis_url: str, key_prefix: str, result: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        WORKER,
        "--url",
        redis_url,
        "--prefix",
        key_prefix,
        "--clock",
        str(TEN_SECONDS_IN),
        "--result",
        str(result),
        *options,
    ]


def run_flooding_replicas(
    redis_url: str, key_prefix: str, kind: str, tmp_path: Path
) -> list[dict[str, float]]:
    start_at = time.time() + 3.0  # every process is up and connected before anyone sends
    results = [tmp_path / f"replica-{number}.json" for number in range(REPLICAS)]
    options = [
        *("--kind", kind, "--quota", str(QUOTA), "--start-at", str(start_at)),
        *("--clients", str(CLIENTS_PER_REPLICA)),
        *("--requests-per-client", str(REQUESTS_PER_CLIENT)),
    ]
    processes = [
        subprocess.Popen(
            worker_command(redis_url, key_prefix, result, *options),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for result in results
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=WORKER_TIMEOUT_SECONDS)
        assert process.returncode == 0, stderr.decode(errors="replace")[-3000:]
    return [json.loads(result.read_text()) for result in results]


@pytest.mark.parametrize("kind", ["requests", "tokens", "concurrency"])
def test_two_replicas_flooded_with_ten_times_the_quota_admit_the_quota_and_no_more(
    kind: str, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    replicas = run_flooding_replicas(redis_url, key_prefix, kind, tmp_path)

    sent = REPLICAS * CLIENTS_PER_REPLICA * REQUESTS_PER_CLIENT
    admitted = sum(int(replica["admitted"]) for replica in replicas)
    assert sum(int(replica["unavailable"]) for replica in replicas) == 0
    assert sum(int(replica["refused"]) for replica in replicas) == sent - admitted
    # The replicas really ran at the same time.
    assert replicas[0]["started"] < replicas[1]["finished"]
    assert replicas[1]["started"] < replicas[0]["finished"]
    print(
        f"\n{kind}: quota {QUOTA}, sent {sent}, admitted {admitted} "
        f"({100 * admitted / QUOTA:.1f}% of the quota), "
        f"per replica {[int(replica['admitted']) for replica in replicas]}, "
        f"wall {max(r['finished'] for r in replicas) - min(r['started'] for r in replicas):.2f}s"
    )
    assert admitted <= QUOTA
    assert admitted >= 0.98 * QUOTA


@pytest.mark.anyio
async def test_the_slot_of_a_replica_that_dies_expires_after_its_ttl(
    redis_url: str, key_prefix: str, tmp_path: Path, open_limiter: OpenLimiter
) -> None:
    result = tmp_path / "doomed.json"
    command = worker_command(
        redis_url, key_prefix, result, "--mode", "hold", "--quota", "1", "--slot-ttl", "2"
    )
    async with await anyio.open_process(command, cwd=REPO) as doomed:
        assert doomed.stdout is not None
        output = b""
        with anyio.fail_after(WORKER_TIMEOUT_SECONDS):
            while b"held" not in output:
                output += await doomed.stdout.receive()
        doomed.send_signal(signal.SIGKILL)  # dies holding its slot, releasing nothing
        await doomed.wait()
    died_at = time.monotonic()

    survivor = await open_limiter(slot_ttl_seconds=2)
    one_slot = [QuotaScope("tenant", "noisy", Quota(concurrent=1))]
    with pytest.raises(RateLimitedError, match="tenant concurrent requests"):
        await survivor.admit("while-held", one_slot, 0)
    await anyio.sleep(max(0.0, 2.2 - (time.monotonic() - died_at)))
    admission = await survivor.admit("after-expiry", one_slot, 0)
    await admission.release()
