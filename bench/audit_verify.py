"""How fast the audit trail verifies (full and incremental), and what the anchor costs.

    .venv/bin/python bench/audit_verify.py [--records 50000] [--skip-postgres]  (about 1 minute)

A trail of ``--records`` records is written through the real writer (a checkpoint every
1,000 records, each also appended and fsynced to the anchor file), then:

* full: ``enclave audit verify``'s work (re-hash every record, check every signature and
  link, cross-check the anchor), records per second;
* incremental, cold: the compliance API's first run in a fresh process (everything);
* incremental, new: the next run after ``--new`` more requests (only their records are
  read; each request left unfinished gets an ``incomplete`` record when its writer stops);
* incremental, idle: a run with nothing new (what a throttled page load costs at most).

The last table times one anchor append (write + fsync of one signed statement) against
one checkpoint transaction in the database; a writer anchors once per checkpoint, so the
cost per record is that divided by the checkpoint size.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.audit_writer import percentile, postgres_database, print_table, sqlite_database
from bench.audit_writer import started_event as request_record
from gateway.audit.anchor import FileAnchor
from gateway.audit.chain import insert_checkpoint
from gateway.audit.config import AuditConfig
from gateway.audit.incremental import IncrementalVerifier, TenantVerification
from gateway.audit.keys import create_signing_key, load_signer, trusted_public_keys
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.audit.verify import TrailReport, VerifyOptions, verify_trail
from gateway.audit.writer import AuditWriter
from gateway.db.session import create_db_engine
from gateway.identity.clock import utc_now

CLIENTS = 64
SAMPLES = 200


async def write_records(url: str, signer: ChainSigner, config: AuditConfig, count: int) -> None:
    engine = create_db_engine(url)
    writer = AuditWriter(engine, signer, config)
    await writer.start()
    share = count // CLIENTS

    async def client(offset: int) -> None:
        for number in range(offset, offset + share):
            await writer.append(request_record(number))

    await asyncio.gather(*(client(index * share) for index in range(CLIENTS)))
    await writer.stop()
    engine.dispose()


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def require(ok: bool, what: object) -> None:
    if not ok:
        raise SystemExit(f"verification failed on the benchmark's own trail: {what}")


def verification_rows(
    backend: str, url: str, config: AuditConfig, args: argparse.Namespace
) -> list[list[str]]:
    signer = load_signer(config.signing_key_file)
    keys = trusted_public_keys(config.signing_key_file)
    asyncio.run(write_records(url, signer, config, args.records))
    engine = create_db_engine(url)
    options = VerifyOptions(
        anchor=FileAnchor(config.anchor_path), unsigned_tail_max=timedelta(minutes=2)
    )
    reports: list[TrailReport] = []
    full = timed(lambda: reports.append(verify_trail(engine, keys, options)))
    require(reports[0].ok, reports[0])
    total = reports[0].records
    moment = [utc_now()]
    incremental = IncrementalVerifier(engine, config, lambda: keys, clock=lambda: moment[0])
    cold = timed(lambda: incremental.verify("acme"))
    asyncio.run(write_records(url, signer, config, args.new))
    moment[0] += timedelta(seconds=config.verify_interval_seconds)
    views: list[TenantVerification] = []
    new = timed(lambda: views.append(incremental.verify("acme")))
    require(views[0].ok, views[0])
    moment[0] += timedelta(seconds=config.verify_interval_seconds)
    idle = timed(lambda: incremental.verify("acme"))
    added = count_rows(engine) - total  # a writer's stop adds an ``incomplete`` per start
    engine.dispose()
    return [
        [backend, "full (CLI)", str(total), f"{full:.2f}", f"{total / full:,.0f}"],
        [backend, "incremental, cold", str(total), f"{cold:.2f}", f"{total / cold:,.0f}"],
        [backend, "incremental, new", str(added), f"{new:.3f}", f"{added / new:,.0f}"],
        [backend, "incremental, idle", "0", f"{idle:.4f}", "-"],
    ]


def count_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(EVENT_TABLE)).scalar_one())


def anchor_rows(backend: str, url: str, config: AuditConfig) -> list[list[str]]:
    signer = load_signer(config.signing_key_file)
    anchor = FileAnchor(config.anchor_path.with_name("bench-anchor.jsonl"))
    engine = create_db_engine(url)
    appends: list[float] = []
    commits: list[float] = []
    for number in range(SAMPLES):
        statement = signer.checkpoint("bench", number + 1, "ab" * 32, utc_now())
        began = time.perf_counter()
        with engine.begin() as connection:
            insert_checkpoint(connection, statement)
        commits.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        anchor.append([statement])
        appends.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    per_record = statistics.median(appends) * 1000 / config.checkpoint_records
    return [
        [
            backend,
            f"{statistics.median(commits):.2f}",
            f"{statistics.median(appends):.2f}",
            f"{percentile(appends, 0.99):.2f}",
            f"{per_record:.2f}",
        ]
    ]


@contextmanager
def keys_folder() -> Iterator[AuditConfig]:
    with tempfile.TemporaryDirectory(prefix="enclave-bench-verify-") as folder:
        key_file = Path(folder) / "signing-key.pem"
        create_signing_key(key_file)
        yield AuditConfig(signing_key_file=key_file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--new", type=int, default=5_000)
    parser.add_argument(
        "--postgres-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    backends = [("sqlite", sqlite_database)]
    if not args.skip_postgres:
        backends.append(("postgresql", lambda: postgres_database(args.postgres_dsn)))
    verification: list[list[str]] = []
    anchoring: list[list[str]] = []
    for backend, database in backends:
        with database() as url, keys_folder() as config:
            verification += verification_rows(backend, url, config, args)
            anchoring += anchor_rows(backend, url, replace(config))
    print("Verification speed\n")
    print_table(["backend", "verification", "records", "seconds", "records/s"], verification)
    print("\nWhat the anchor adds per checkpoint (one signed statement)\n")
    headers = ["backend", "DB checkpoint ms", "anchor p50 ms", "anchor p99 ms", "µs/record"]
    print_table(headers, anchoring)


if __name__ == "__main__":
    main()
