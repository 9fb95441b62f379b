"""End to end on this machine: bare vLLM, LiteLLM in front of it, Enclave (PII off and on).

    .venv/bin/python bench/e2e_compare.py [--rounds 3] [--concurrency 1,8,32] [--max-tokens 32]

Same tiny model (var/test-models/tiny-llama), same workload, same client, one run:

- ``vllm``: vLLM's OpenAI server (``python -m vllm.entrypoints.openai.api_server``);
- ``litellm``: LiteLLM's proxy (its own venv, pinned) in front of that server;
- ``enclave``: the full pipeline (TLS, JWT, policy, rate limits in memory, audit on SQLite)
  with PII off; ``enclave-redis``: the same with rate limits in Redis;
- ``enclave+pii``: the ``enclave`` process with the default policy's PII redaction on.

Only one engine runs at a time: each round starts vLLM (for ``vllm`` and ``litellm``), then
Enclave with memory rate limits, then Enclave with Redis, in a rotating order, and stops
each before the next. Within a group, systems alternate cell by cell. Every cell is
N = max(--min-requests, --requests-per-slot x C) requests at concurrency C, after one
untimed request per connection. Tables show medians across rounds; ratios are to ``vllm``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

from harness.enclave import PII_OFF, PII_ON, EnclaveSetup, prepare_enclave, start_enclave
from harness.load import Target
from harness.machine import describe_machine
from harness.plot import plot_throughput
from harness.report import Measurement, save_results
from harness.runner import Contender, Plan, alternate, csv_ints, csv_streams
from harness.servers import BENCH_VAR, REPO, running, start_bare_vllm, start_litellm
from harness.source import enclave_source
from harness.tables import print_e2e_tables

from engine.tiny_model import build_tiny_model

MODEL_DIR = REPO / "var" / "test-models" / "tiny-llama"
SERVED_NAME = "tiny-llama"
MAX_MODEL_LEN = 1024
SYSTEMS = ("vllm", "litellm", "enclave", "enclave-redis", "enclave+pii")

Group = Callable[[], AbstractContextManager[list[Contender]]]


def vllm_group(logs: Path) -> Group:
    """Bare vLLM and LiteLLM in front of it (LiteLLM is restarted with each vLLM)."""

    @contextmanager
    def group() -> Iterator[list[Contender]]:
        with ExitStack() as stack:
            vllm = stack.enter_context(
                running(start_bare_vllm(MODEL_DIR, SERVED_NAME, MAX_MODEL_LEN, logs))
            )
            proxy = stack.enter_context(
                running(start_litellm(f"{vllm.base_url}/v1", SERVED_NAME, logs))
            )
            bare = Target("vllm", f"{vllm.base_url}/v1", SERVED_NAME)
            peer = Target("litellm", f"{proxy.base_url}/v1", SERVED_NAME, proxy.headers)
            yield [Contender("vllm", bare, (vllm,)), Contender("litellm", peer, (proxy, vllm))]

    return group


def enclave_group(setup: EnclaveSetup, logs: Path, names: dict[str, str]) -> Group:
    """One Enclave process; ``names`` maps its tenants (PII off/on) to system names."""

    @contextmanager
    def group() -> Iterator[list[Contender]]:
        with running(start_enclave(setup, logs)) as server:
            yield [
                Contender(name, setup.target(tenant, name), (server,))
                for tenant, name in names.items()
            ]

    return group


def prepare_groups(work: Path, source: Path, with_redis: bool) -> list[Group]:
    logs = work / "logs"
    storages = {"enclave-memory": "memory://"}
    if with_redis:
        storages["enclave-redis"] = "redis://127.0.0.1:6379/0"
    setups = [
        prepare_enclave(
            work / name,
            source=source,
            name=name,
            engine="vllm",
            model_dir=MODEL_DIR,
            served_name=SERVED_NAME,
            max_model_len=MAX_MODEL_LEN,
            rate_limit_storage=storage,
        )
        for name, storage in storages.items()
    ]
    groups = [
        vllm_group(logs),
        enclave_group(setups[0], logs, {PII_OFF: "enclave", PII_ON: "enclave+pii"}),
    ]
    if with_redis:
        groups.append(enclave_group(setups[1], logs, {PII_OFF: "enclave-redis"}))
    return groups


def run(plan: Plan, rounds: int, source_mode: str, with_redis: bool) -> list[Measurement]:
    build_tiny_model(MODEL_DIR)
    work = BENCH_VAR / f"e2e-{time.strftime('%Y%m%d-%H%M%S')}"
    source = enclave_source(source_mode)
    groups = prepare_groups(work, source, with_redis)
    print(f"Enclave from {source}; logs and databases in {work}", flush=True)
    measurements: list[Measurement] = []
    for round_number in range(1, rounds + 1):
        shift = (round_number - 1) % len(groups)
        for group in groups[shift:] + groups[:shift]:
            with group() as contenders:
                measurements.extend(alternate(contenders, plan, round_number))
    return measurements


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=csv_ints, default=(1, 8, 32))
    parser.add_argument("--min-requests", type=int, default=12)
    parser.add_argument("--requests-per-slot", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--prompts", default="short,long", help="short and/or long")
    parser.add_argument("--streams", type=csv_streams, default=(False, True), help="off,on")
    parser.add_argument(
        "--no-redis", action="store_true", help="skip the Enclave group with Redis rate limits"
    )
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
        max_tokens=args.max_tokens,
    )
    meta = describe_machine()
    started = time.monotonic()
    measurements = run(plan, args.rounds, args.source, not args.no_redis)
    meta["duration_s"] = round(time.monotonic() - started)
    meta["options"] = {**vars(args), "requests": {c: plan.requests(c) for c in plan.concurrency}}
    meta["enclave_source"] = f"{args.source} of commit {meta['commit']}"
    path = save_results("e2e", meta, measurements)
    print_e2e_tables(measurements, SYSTEMS, plan.max_tokens)
    print(f"\nresults: {path.relative_to(REPO)}; plot: {plot_throughput()}")


if __name__ == "__main__":
    main()
