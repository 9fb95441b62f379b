"""One Enclave replica in its own OS process: a RateLimiter on the shared Redis.

``flood`` mode: many concurrent clients send requests for one tenant, starting at an
agreed wall-clock instant; the counts are written as JSON to ``--result``.
``hold`` mode: take one concurrency slot, say so in ``--result``, then wait to be killed
(a replica that dies without releasing anything).

Run as ``python -m tests.integration.ratelimit.replica_worker ...`` from the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import structlog

from gateway.errors import RateLimitedError, ServiceUnavailableError
from gateway.ratelimit import Admission, Quota, QuotaScope, RateLimiter

TOKENS_PER_REQUEST = 100


def quota_for(kind: str, amount: int) -> Quota:
    if kind == "requests":
        return Quota(requests_per_minute=amount)
    if kind == "tokens":
        return Quota(tokens_per_minute=amount * TOKENS_PER_REQUEST)
    if kind == "concurrency":
        return Quota(concurrent=amount)
    raise ValueError(f"unknown quota kind {kind!r}")


async def flood(limiter: RateLimiter, args: argparse.Namespace) -> dict[str, Any]:
    scopes = [QuotaScope("tenant", "noisy", quota_for(args.kind, args.quota))]
    counts = {"admitted": 0, "refused": 0, "unavailable": 0}
    held: list[Admission] = []  # in flight until the process ends

    async def client(number: int) -> None:
        for sequence in range(args.requests_per_client):
            request_id = f"{os.getpid()}-{number}-{sequence}"
            try:
                held.append(await limiter.admit(request_id, scopes, TOKENS_PER_REQUEST))
                counts["admitted"] += 1
            except RateLimitedError:
                counts["refused"] += 1
            except ServiceUnavailableError:
                counts["unavailable"] += 1

    await asyncio.sleep(max(0.0, args.start_at - time.time()))
    started = time.time()
    await asyncio.gather(*(client(number) for number in range(args.clients)))
    # Admitted requests keep their slots (never released here): releasing them while the
    # other replica is still sending would rightly admit more. They expire with their TTL.
    return {**counts, "started": started, "finished": time.time()}


async def hold(limiter: RateLimiter, args: argparse.Namespace) -> dict[str, Any]:
    scopes = [QuotaScope("tenant", "noisy", Quota(concurrent=args.quota))]
    await limiter.admit(f"{os.getpid()}-doomed", scopes, 0)
    return {"held": True}


async def main(args: argparse.Namespace) -> None:
    frozen_now = args.clock
    limiter = await RateLimiter.connect(
        args.url,
        key_prefix=args.prefix,
        slot_ttl_seconds=args.slot_ttl,
        clock=lambda: frozen_now,
    )
    result = await (flood if args.mode == "flood" else hold)(limiter, args)
    await asyncio.to_thread(Path(args.result).write_text, json.dumps(result))
    if args.mode == "hold":
        print("held", flush=True)  # the parent waits for this line
        await asyncio.sleep(3600)  # killed long before this ends
    await limiter.close()


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["flood", "hold"], default="flood")
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--kind", default="requests")
    parser.add_argument("--quota", type=int, required=True)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests-per-client", type=int, default=1)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--clock", type=float, required=True)
    parser.add_argument("--slot-ttl", type=int, default=60)
    parser.add_argument("--result", required=True)
    return parser.parse_args()


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main(parse_arguments()))
