"""Drive streaming load through a running gateway and sample its GPU gauges while it runs.

Usage: python bench/gpu_smoke.py --url https://127.0.0.1:8443 --ca certs/ca.pem --token T \\
         --metrics http://127.0.0.1:9464/metrics [--seconds 60] [--concurrency 64]
Prints a table of each GPU gauge (first, max, last sample) and the load's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import ssl
import time

import httpx

GAUGE = re.compile(r"^(enclave_gpu_\w+)\{([^}]*)\} ([0-9.eE+-]+)$")


async def stream_once(client: httpx.AsyncClient, url: str, model: str) -> int:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Write a long story about the sea."}],
        "max_tokens": 256,
        "stream": True,
    }
    chunks = 0
    async with client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            chunks += line.startswith("data: {")
    return chunks


async def load(args: argparse.Namespace, model: str, stop_at: float) -> int:
    context = ssl.create_default_context(cafile=args.ca)
    headers = {"authorization": f"Bearer {args.token}"}
    async with httpx.AsyncClient(verify=context, headers=headers, timeout=120) as client:

        async def worker() -> int:
            total = 0
            while time.monotonic() < stop_at:
                total += await stream_once(client, args.url, model)
            return total

        return sum(await asyncio.gather(*(worker() for _ in range(args.concurrency))))


async def sample(metrics_url: str, stop_at: float) -> dict[str, list[float]]:
    series: dict[str, list[float]] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() < stop_at:
            for line in (await client.get(metrics_url)).text.splitlines():
                match = GAUGE.match(line)
                if match:
                    series.setdefault(f"{match[1]}{{{match[2]}}}", []).append(float(match[3]))
            await asyncio.sleep(2)
    return series


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for flag in ("--url", "--ca", "--token", "--metrics"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=args.ca)) as client:
        headers = {"authorization": f"Bearer {args.token}"}
        models = (await client.get(f"{args.url}/v1/models", headers=headers)).json()
    model = models["data"][0]["id"]
    started = time.monotonic()
    stop_at = started + args.seconds
    chunks, series = await asyncio.gather(
        load(args, model, stop_at), sample(args.metrics, stop_at + 4)
    )
    elapsed = time.monotonic() - started
    print(
        f"load: {args.concurrency} concurrent streams for {elapsed:.0f} s, {chunks} chunks, "
        f"{chunks / elapsed:.0f} chunks/s"
    )
    print(f"{'series':<72} {'first':>14} {'max':>14} {'last':>14}")
    for name, values in sorted(series.items()):
        print(f"{name:<72} {values[0]:>14.4g} {max(values):>14.4g} {values[-1]:>14.4g}")


if __name__ == "__main__":
    asyncio.run(main())
