"""The gateway's own cost: Enclave on its instant engine beside LiteLLM on an instant upstream.

    .venv/bin/python bench/gateway_overhead.py [--rounds 3] [--concurrency 1,8,32]

No inference anywhere, so what is left is the gateways' own work per request:

- ``direct``: the instant upstream itself (bench/harness/instant_upstream.py: a bare ASGI
  app on uvicorn that answers with the instant engine's sentence), the floor;
- ``litellm``: LiteLLM's proxy (pinned, own venv, master key on) in front of that upstream;
- ``enclave``: ``ENCLAVE_ENGINE=instant`` with the full pipeline (TLS, JWT, policy, rate
  limits in memory, audit on SQLite), PII off; ``enclave-redis``: rate limits in Redis;
- ``enclave+pii``: the ``enclave`` process, the default policy's PII redaction on.

All run side by side for the whole benchmark (none holds an engine); each round measures
every cell for every system, the order alternating cell by cell. Reported: requests/s (the
ceiling at the highest concurrency, on this machine's cores shared with the load
generator), p50/p99 latency and what each adds to ``direct``, the server processes' CPU
time per request, and each server's resident memory (VmRSS) idle and at its peak under load.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from harness.enclave import PII_OFF, PII_ON, prepare_enclave, start_enclave
from harness.load import Target
from harness.machine import describe_machine
from harness.overhead_tables import print_overhead_tables
from harness.plot import plot_throughput
from harness.procstat import RssSamples, rss_mib, sample_rss
from harness.report import Measurement, save_results
from harness.runner import Contender, Plan, alternate, csv_ints, csv_streams
from harness.servers import (
    BENCH_VAR,
    REPO,
    Server,
    running,
    start_instant_upstream,
    start_litellm,
)
from harness.source import enclave_source

SERVED_NAME = "tiny-llama"
SYSTEMS = ("direct", "litellm", "enclave", "enclave-redis", "enclave+pii")


@contextmanager
def start_all(work: Path, source: Path) -> Iterator[list[Contender]]:
    logs = work / "logs"
    setups = {
        name: prepare_enclave(
            work / name,
            source=source,
            name=name,
            engine="instant",
            model_dir=work / "no-model",
            served_name=SERVED_NAME,
            max_model_len=2048,
            rate_limit_storage=storage,
        )
        for name, storage in (
            ("enclave-memory", "memory://"),
            ("enclave-redis", "redis://127.0.0.1:6379/0"),
        )
    }
    with ExitStack() as stack:
        upstream = stack.enter_context(running(start_instant_upstream(SERVED_NAME, logs, source)))
        proxy = stack.enter_context(
            running(start_litellm(f"{upstream.base_url}/v1", SERVED_NAME, logs))
        )
        memory, redis = (
            stack.enter_context(running(start_enclave(setup, logs))) for setup in setups.values()
        )
        on_memory, on_redis = setups["enclave-memory"], setups["enclave-redis"]
        yield [
            Contender(
                "direct", Target("direct", f"{upstream.base_url}/v1", SERVED_NAME), (upstream,)
            ),
            Contender(
                "litellm",
                Target("litellm", f"{proxy.base_url}/v1", SERVED_NAME, proxy.headers),
                (proxy,),
            ),
            Contender("enclave", on_memory.target(PII_OFF, "enclave"), (memory,)),
            Contender("enclave-redis", on_redis.target(PII_OFF, "enclave-redis"), (redis,)),
            Contender("enclave+pii", on_memory.target(PII_ON, "enclave+pii"), (memory,)),
        ]


def servers_of(contenders: Sequence[Contender]) -> dict[str, Server]:
    """Each server process once, named by the first system that uses it as its own."""
    found: dict[str, Server] = {}
    for contender in contenders:
        server = contender.servers[0]
        if server.pid not in {s.pid for s in found.values()}:
            found[contender.name] = server
    return found


def run(
    plan: Plan, rounds: int, source_mode: str
) -> tuple[list[Measurement], dict[str, dict[str, float]]]:
    work = BENCH_VAR / f"overhead-{time.strftime('%Y%m%d-%H%M%S')}"
    source = enclave_source(source_mode)
    print(f"Enclave from {source}; logs and databases in {work}", flush=True)
    measurements: list[Measurement] = []
    with start_all(work, source) as contenders, ExitStack() as sampling:
        servers = servers_of(contenders)
        idle = {name: rss_mib(server.pid) for name, server in servers.items()}
        samples: dict[str, RssSamples] = {
            name: sampling.enter_context(sample_rss(server.pid)) for name, server in servers.items()
        }
        for round_number in range(1, rounds + 1):
            measurements.extend(alternate(contenders, plan, round_number))
        memory = {
            name: {"idle_mib": round(idle[name], 1), "peak_mib": round(samples[name].peak_mib, 1)}
            for name in servers
        }
    return measurements, memory


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=csv_ints, default=(1, 8, 32))
    parser.add_argument("--min-requests", type=int, default=100)
    parser.add_argument("--requests-per-slot", type=int, default=8)
    parser.add_argument("--prompts", default="short,long", help="short and/or long")
    parser.add_argument("--streams", type=csv_streams, default=(False, True), help="off,on")
    parser.add_argument(
        "--source",
        default="snapshot",
        choices=("snapshot", "worktree"),
        help="Enclave from a snapshot of HEAD (default) or from the working tree as it is",
    )
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    plan = Plan(
        concurrency=args.concurrency,
        prompts=tuple(args.prompts.split(",")),
        streams=args.streams,
        min_requests=args.min_requests,
        requests_per_slot=args.requests_per_slot,
        max_tokens=16,
    )
    meta = describe_machine()
    started = time.monotonic()
    measurements, memory = run(plan, args.rounds, args.source)
    meta["duration_s"] = round(time.monotonic() - started)
    meta["options"] = {**vars(args), "requests": {c: plan.requests(c) for c in plan.concurrency}}
    meta["enclave_source"] = f"{args.source} of commit {meta['commit']}"
    meta["memory"] = memory
    path = save_results("overhead", meta, measurements)
    print_overhead_tables(measurements, SYSTEMS, memory)
    print(f"\nresults: {path.relative_to(REPO)}; plot: {plot_throughput()}")


if __name__ == "__main__":
    main()
