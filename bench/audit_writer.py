"""Audited records per second through the group-commit writer, and the latency it adds.

    .venv/bin/python bench/audit_writer.py [--records 20000] [--skip-postgres]  (about 1 minute)

SQLite runs on a file in a fresh temporary folder (WAL, synchronous=FULL, as shipped);
PostgreSQL on a throw-away database (``--postgres-dsn``, default the local server). Each
row of the first table is one load: CLIENTS coroutines appending records as fast as their
previous record is durable. The second table plays whole requests: a "started" record,
ENGINE_MS of engine time, a "completed" record; the added latency is the time a request
spends waiting for its two records to be durable.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.audit.config import AuditConfig
from gateway.audit.events import AuditEvent, StoredContent
from gateway.audit.keys import create_signing_key, load_signer
from gateway.audit.request import RequestAudit
from gateway.audit.signing import ChainSigner
from gateway.audit.writer import AuditWriter
from gateway.db.session import create_db_engine, upgrade_database

PROMPT = "Summarise the attached quarterly figures for <PERSON> at <EMAIL_ADDRESS>. " * 4


@dataclass(frozen=True)
class LoadResult:
    backend: str
    clients: int
    records: int
    seconds: float
    batches: int
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.records / self.seconds


def sample_request(number: int) -> RequestAudit:
    return RequestAudit(
        request_id=f"bench-{number:08d}",
        route="/v1/chat/completions",
        client_address="10.1.2.3",
        tenant="acme",
        subject="app-1",
        department="finance",
        roles=("app",),
        model="smollm2-135m-instruct",
    )


def started_event(number: int) -> AuditEvent:
    content = StoredContent(level="redacted", text=PROMPT)
    return sample_request(number).started(
        entity_counts={"PERSON": 1, "EMAIL_ADDRESS": 1}, prompt_tokens=60, content=content
    )


async def run_load(
    backend: str, url: str, signer: ChainSigner, records: int, clients: int
) -> LoadResult:
    engine = create_db_engine(url)
    writer = AuditWriter(engine, signer, bench_config(signer))
    await writer.start()
    latencies: list[float] = []
    share = records // clients

    async def client(offset: int) -> None:
        for number in range(offset, offset + share):
            began = time.perf_counter()
            await writer.append(started_event(number))
            latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(client(index * share) for index in range(clients)))
    seconds = time.perf_counter() - began
    batches = writer.stats.batches
    await writer.stop()
    engine.dispose()
    return LoadResult(backend, clients, share * clients, seconds, batches, latencies)


async def run_requests(
    backend: str, url: str, signer: ChainSigner, requests: int, clients: int, engine_ms: float
) -> list[float]:
    """Added latency (ms) per request: waiting for its started and completed records."""
    engine = create_db_engine(url)
    writer = AuditWriter(engine, signer, bench_config(signer))
    await writer.start()
    added: list[float] = []
    share = requests // clients

    async def client(offset: int) -> None:
        for number in range(offset, offset + share):
            audit = sample_request(number)
            began = time.perf_counter()
            await writer.append(started_event(number))
            waited = time.perf_counter() - began
            await asyncio.sleep(engine_ms / 1000)
            began = time.perf_counter()
            await writer.append(
                audit.completed(prompt_tokens=60, completion_tokens=120, engine_us=20_000)
            )
            added.append((waited + time.perf_counter() - began) * 1000)

    await asyncio.gather(*(client(index * share) for index in range(clients)))
    await writer.stop()
    engine.dispose()
    return added


ANCHORS: dict[str, Path] = {}
"""Signer key id → its key file: the anchor (``anchor.jsonl``) lands beside it, as shipped."""


def bench_config(signer: ChainSigner) -> AuditConfig:
    return AuditConfig(signing_key_file=ANCHORS[signer.key_id])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        yield url


@contextmanager
def postgres_database(admin_dsn: str) -> Iterator[str]:
    name = f"enclave_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    host, port = params.get("host", "127.0.0.1"), params.get("port", 5432)
    url = f"postgresql://{params.get('user', 'postgres')}@{host}:{port}/{name}"
    try:
        upgrade_database(url)
        yield url
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for line in (headers, *rows):
        print("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--requests-per-client", type=int, default=40)
    parser.add_argument("--engine-ms", type=float, default=20.0)
    parser.add_argument(
        "--postgres-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--switch-interval-ms",
        type=float,
        default=None,
        help="set sys.setswitchinterval (Python's default is 5 ms) to see its effect",
    )
    args = parser.parse_args()
    if args.switch_interval_ms is not None:
        sys.setswitchinterval(args.switch_interval_ms / 1000)

    with tempfile.TemporaryDirectory(prefix="enclave-bench-keys-") as keys:
        key_file = Path(keys) / "signing-key.pem"
        create_signing_key(key_file)
        signer = load_signer(key_file)
        ANCHORS[signer.key_id] = key_file
        backends = [("sqlite", sqlite_database())]
        if not args.skip_postgres:
            backends.append(("postgresql", postgres_database(args.postgres_dsn)))
        loads: list[LoadResult] = []
        requests: list[tuple[str, int, list[float]]] = []
        for backend, database in backends:
            with database as url:
                for clients in (1, 16, 128, 512):
                    count = min(args.records, 500) if clients == 1 else args.records
                    loads.append(asyncio.run(run_load(backend, url, signer, count, clients)))
                for clients in (1, 64, 256):
                    count = max(250, clients * args.requests_per_client)
                    added = asyncio.run(
                        run_requests(backend, url, signer, count, clients, args.engine_ms)
                    )
                    requests.append((backend, clients, added))
    print(f"GIL switch interval {sys.getswitchinterval() * 1000:g} ms\n")
    report(loads, requests, args.engine_ms)


def report(
    loads: list[LoadResult], requests: list[tuple[str, int, list[float]]], engine_ms: float
) -> None:
    print("Audited records through the writer (each client appends when its last is durable)\n")
    rows = [
        [
            load.backend,
            str(load.clients),
            str(load.records),
            f"{load.seconds:.2f}",
            f"{load.per_second:,.0f}",
            f"{load.records / max(load.batches, 1):.1f}",
            f"{statistics.median(load.latencies_ms):.2f}",
            f"{percentile(load.latencies_ms, 0.99):.2f}",
        ]
        for load in loads
    ]
    headers = [
        "backend",
        "clients",
        "records",
        "seconds",
        "records/s",
        "per commit",
        "p50 ms",
        "p99 ms",
    ]
    print_table(headers, rows)
    print(f"\nLatency added per request (started + completed records; engine {engine_ms:.0f} ms)\n")
    rows = [
        [
            backend,
            str(clients),
            str(len(added)),
            f"{statistics.median(added):.2f}",
            f"{percentile(added, 0.99):.2f}",
        ]
        for backend, clients, added in requests
    ]
    print_table(["backend", "concurrent", "requests", "added p50 ms", "added p99 ms"], rows)


if __name__ == "__main__":
    main()
