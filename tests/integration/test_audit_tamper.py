"""A database-only attacker against a real trail: every manipulation is caught by verify.

One trail per backend (SQLite and PostgreSQL) is written by real ``enclave serve``
processes on the instant engine: the first is SIGKILLed after 25 requests (its chain is
closed at recovery by the next), the second serves 25 more and stops cleanly. Each test
works on a copy of that trail, changes the database as an intruder without the audit
signing key would (never the anchor, never the keys folder), and runs ``enclave audit
verify``, which must exit 1 naming the chain, the kind of problem and where. The untouched
copy must verify (no false alarm after the SIGKILL and restart).
"""

from __future__ import annotations

import base64
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, insert, select, text, update

from gateway.audit.canonical import GENESIS_HASH, record_hash
from gateway.audit.chain import CHAIN_TABLE, CHECKPOINT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.audit.stored import checkpoint_of
from gateway.db.session import create_db_engine
from gateway.tls.certs import init_dev_certs
from tests.e2e.conftest import free_port, prepare_identity
from tests.integration.test_audit_crash import high_rate_policies, running, sigkill
from tests.support.cli import EnclaveCli
from tests.support.databases import fresh_postgres_schema, throwaway_postgres_database
from tests.support.trail_copies import copy_trail
from tests.support.workspace import workspace_env
from tests.unit.audit.tamper import (
    TABLE,
    delete_seq,
    edit,
    insert_forged,
    rehash_from,
    row_at,
    swap,
)

REQUESTS_PER_RUN = 25


@dataclass(frozen=True)
class WrittenTrail:
    env: dict[str, str]
    url: str
    killed: str
    """The chain of the SIGKILLed gateway (closed at recovery by the next one)."""
    closed: str
    """The chain of the gateway that stopped cleanly."""


@dataclass(frozen=True)
class TrailCopy:
    cli: EnclaveCli
    engine: Engine
    killed: str
    closed: str


def send_requests(url: str, token: str, ca: Path, count: int) -> None:
    body = {"model": "instant", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(verify=str(ca), headers=headers, timeout=30) as http:
        for _ in range(count):
            response = http.post(f"{url}/v1/chat/completions", json=body)
            assert response.status_code == 200, response.text


def write_trail(work: Path, database_url: str | None) -> WrittenTrail:
    certs = init_dev_certs(work / "certs")
    env = {
        **os.environ,
        "ENCLAVE_ENGINE": "instant",
        "ENCLAVE_SERVED_MODEL_NAME": "instant",
        **workspace_env(work),
        "ENCLAVE_PORT": str(free_port()),
        "ENCLAVE_METRICS_PORT": str(free_port()),
        "ENCLAVE_POLICIES_DIR": str(high_rate_policies(work / "policies")),
        "ENCLAVE_RATE_LIMIT_STORAGE": "memory://",
        "ENCLAVE_LOG_LEVEL": "warning",
        "ENCLAVE_AUDIT_CHECKPOINT_RECORDS": "10",
    }
    if database_url is not None:
        env["ENCLAVE_DATABASE_URL"] = database_url
    token = prepare_identity(env)
    url = f"https://127.0.0.1:{env['ENCLAVE_PORT']}"
    with running(env, work / "killed.log", certs.ca_cert) as process:
        send_requests(url, token, certs.ca_cert, REQUESTS_PER_RUN)
        sigkill(process)
    with running(env, work / "clean.log", certs.ca_cert) as process:
        send_requests(url, token, certs.ca_cert, REQUESTS_PER_RUN)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    engine = create_db_engine(env["ENCLAVE_DATABASE_URL"])
    with engine.connect() as connection:
        chains = connection.execute(
            select(CHAIN_TABLE.c.chain_id, CHAIN_TABLE.c.closed_at, CHAIN_TABLE.c.settled_at)
        ).all()
    engine.dispose()
    killed = [c.chain_id for c in chains if c.settled_at is not None]
    closed = [c.chain_id for c in chains if c.closed_at is not None]
    assert len(killed) == len(closed) == 1, chains
    cli_env = {k: v for k, v in env.items() if k.startswith("ENCLAVE_")}
    return WrittenTrail(cli_env, env["ENCLAVE_DATABASE_URL"], killed[0], closed[0])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def written(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WrittenTrail]:
    work = tmp_path_factory.mktemp(f"trail-{request.param}")
    if request.param == "sqlite":
        yield write_trail(work, None)
        return
    with throwaway_postgres_database() as dsn:
        yield write_trail(work, fresh_postgres_schema(dsn))


@pytest.fixture
def trail(written: WrittenTrail, tmp_path: Path) -> Iterator[TrailCopy]:
    url = copy_trail(written.url, tmp_path)
    engine = create_db_engine(url)
    cli = EnclaveCli({**written.env, "ENCLAVE_DATABASE_URL": url})
    yield TrailCopy(cli, engine, written.killed, written.closed)
    engine.dispose()


def refused(trail: TrailCopy, chain: str, kind: str, *where: str) -> str:
    """Run verify; insist it exits 1 naming ``chain``, ``kind`` and each of ``where``."""
    result = trail.cli.run("audit", "verify")
    assert result.exit_code == 1, result.stdout
    line = next(
        (line for line in result.stdout.splitlines() if line.startswith(f"chain {chain}: ")),
        None,
    )
    assert line is not None, result.stdout
    assert line.startswith(f"chain {chain}: {kind}: "), line
    for fragment in where:
        assert fragment in line, line
    return line


def execute(engine: Engine, statement: Any) -> None:
    with engine.begin() as connection:
        connection.execute(statement)


def last_seq(engine: Engine, chain: str) -> int:
    with engine.connect() as connection:
        rows = connection.execute(select(TABLE.c.seq).where(TABLE.c.chain_id == chain)).scalars()
        return max(int(seq) for seq in rows)


def checkpoints(engine: Engine, chain: str) -> list[dict[str, Any]]:
    statement = (
        select(CHECKPOINT_TABLE)
        .where(CHECKPOINT_TABLE.c.chain_id == chain)
        .order_by(CHECKPOINT_TABLE.c.seq, CHECKPOINT_TABLE.c.id)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(statement).mappings()]


def test_the_untouched_trail_verifies_after_a_sigkill_and_restart(trail: TrailCopy) -> None:
    result = trail.cli.ok("audit", "verify")
    assert "2 chain(s): intact." in result.stdout
    assert trail.killed in result.stdout
    assert trail.closed in result.stdout
    report = trail.cli.json("audit", "verify")
    assert all(chain["closed"] for chain in report["chains"])
    assert all(chain["unsigned"] == 0 for chain in report["chains"])


def test_an_edited_field(trail: TrailCopy) -> None:
    row_id = edit(trail.engine, trail.closed, 20, tenant="mallory")
    refused(trail, trail.closed, "altered", f"row id {row_id} (seq 20)")


def test_an_edited_field_in_the_chain_closed_at_recovery(trail: TrailCopy) -> None:
    seq = last_seq(trail.engine, trail.killed)
    row_id = edit(trail.engine, trail.killed, seq, status=500)
    refused(trail, trail.killed, "altered", f"row id {row_id} (seq {seq})")


def test_a_deleted_row(trail: TrailCopy) -> None:
    delete_seq(trail.engine, trail.closed, 17)
    refused(trail, trail.closed, "deleted", "record seq 17 is missing")


def test_an_inserted_row(trail: TrailCopy) -> None:
    row_id = insert_forged(trail.engine, trail.closed, 15, tenant="mallory")
    refused(trail, trail.closed, "inserted", f"row id {row_id} (seq 15)")


def test_a_row_appended_after_the_close(trail: TrailCopy) -> None:
    seq = last_seq(trail.engine, trail.killed)
    template = row_at(trail.engine, trail.killed, seq)
    forged = {**template, "seq": seq + 1, "prev_hash": template["hash"], "request_id": "late"}
    forged.pop("id")
    forged["hash"] = record_hash(forged)
    execute(trail.engine, insert(TABLE).values(forged))
    refused(trail, trail.killed, "inserted", f"(seq {seq + 1}) follows the chain's final")


def test_a_forged_chain_with_correct_hashes(trail: TrailCopy) -> None:
    chain = "mallory:1:feedbeef"
    template = row_at(trail.engine, trail.closed, 5)
    previous = GENESIS_HASH
    for seq in (1, 2, 3):
        row = {**template, "chain_id": chain, "seq": seq, "prev_hash": previous}
        row.pop("id")
        row["hash"] = previous = record_hash(row)
        execute(trail.engine, insert(TABLE).values(row))
    refused(trail, chain, "forged", f"chain {chain} is not in the anchor", "seq 1")


def test_reordered_rows(trail: TrailCopy) -> None:
    first, _ = swap(trail.engine, trail.closed, 22, 23)
    refused(trail, trail.closed, "reordered", f"row id {first}")


def test_a_truncated_tail_with_its_checkpoints_still_stored(trail: TrailCopy) -> None:
    end = last_seq(trail.engine, trail.closed)
    delete_seq(trail.engine, trail.closed, *range(31, end + 1))
    refused(trail, trail.closed, "deleted", "records seq 31-", "missing from the end")


def test_a_truncated_tail_with_its_checkpoints_and_the_chain_reopened(trail: TrailCopy) -> None:
    end = last_seq(trail.engine, trail.closed)
    delete_seq(trail.engine, trail.closed, *range(31, end + 1))
    mine = CHECKPOINT_TABLE.c.chain_id == trail.closed
    execute(trail.engine, delete(CHECKPOINT_TABLE).where(mine, CHECKPOINT_TABLE.c.seq > 30))
    registry = CHAIN_TABLE.c.chain_id == trail.closed
    execute(trail.engine, update(CHAIN_TABLE).where(registry).values(closed_at=None))
    refused(trail, trail.closed, "deleted", f"records seq 31-{end} are missing from the end")


def test_a_truncated_tail_of_the_recovered_chain(trail: TrailCopy) -> None:
    end = last_seq(trail.engine, trail.killed)
    delete_seq(trail.engine, trail.killed, end)
    mine = CHECKPOINT_TABLE.c.chain_id == trail.killed
    execute(trail.engine, delete(CHECKPOINT_TABLE).where(mine, CHECKPOINT_TABLE.c.seq >= end))
    registry = CHAIN_TABLE.c.chain_id == trail.killed
    execute(trail.engine, update(CHAIN_TABLE).where(registry).values(settled_at=None))
    refused(trail, trail.killed, "deleted", f"seq {end}", "missing")


def test_a_whole_chain_deleted_with_its_checkpoints_and_registry_row(trail: TrailCopy) -> None:
    chain = trail.closed
    execute(trail.engine, delete(TABLE).where(TABLE.c.chain_id == chain))
    execute(trail.engine, delete(CHECKPOINT_TABLE).where(CHECKPOINT_TABLE.c.chain_id == chain))
    execute(trail.engine, delete(CHAIN_TABLE).where(CHAIN_TABLE.c.chain_id == chain))
    refused(trail, chain, "deleted", f"chain {chain} is missing from the database")


def test_a_deleted_checkpoint(trail: TrailCopy) -> None:
    middle = checkpoints(trail.engine, trail.closed)[2]
    execute(trail.engine, delete(CHECKPOINT_TABLE).where(CHECKPOINT_TABLE.c.id == middle["id"]))
    refused(trail, trail.closed, "deleted", "a signed statement before checkpoint id")


def test_a_deleted_final_checkpoint(trail: TrailCopy) -> None:
    final = checkpoints(trail.engine, trail.closed)[-1]
    execute(trail.engine, delete(CHECKPOINT_TABLE).where(CHECKPOINT_TABLE.c.id == final["id"]))
    registry = CHAIN_TABLE.c.chain_id == trail.closed
    execute(trail.engine, update(CHAIN_TABLE).where(registry).values(closed_at=None))
    refused(trail, trail.closed, "deleted", f"close statement at seq {final['seq']}")


def test_an_edited_checkpoint(trail: TrailCopy) -> None:
    target = checkpoints(trail.engine, trail.closed)[1]
    moved = datetime(2020, 1, 1, tzinfo=UTC)
    where = CHECKPOINT_TABLE.c.id == target["id"]
    execute(trail.engine, update(CHECKPOINT_TABLE).where(where).values(signed_at=moved))
    refused(trail, trail.closed, "forged", f"checkpoint id {target['id']}", "does not verify")


def test_checkpoints_re_signed_with_a_key_planted_in_the_database(trail: TrailCopy) -> None:
    """The audit trust root is the keys folder: a key the intruder puts in the database
    (the only key table there is the token keys') and signs with is not trusted."""
    edit(trail.engine, trail.closed, 20, rehash=True, tenant="mallory")
    rehash_from(trail.engine, trail.closed, 21)
    intruder = Ed25519PrivateKey.generate()
    plant_public_key(trail.engine, intruder)
    signer, previous = ChainSigner(intruder), ""
    for row in checkpoints(trail.engine, trail.closed):
        stored = checkpoint_of(row)  # type: ignore[arg-type]
        head = row_at(trail.engine, trail.closed, stored.seq)["hash"]
        forged = signer.checkpoint(
            stored.chain_id,
            stored.seq,
            head,
            stored.signed_at,
            statement=stored.statement,
            previous=previous,
        )
        previous = forged.digest
        values = {
            "head_hash": head,
            "key_id": forged.key_id,
            "signature": forged.signature,
            "previous": forged.previous,
        }
        where = CHECKPOINT_TABLE.c.id == row["id"]
        execute(trail.engine, update(CHECKPOINT_TABLE).where(where).values(values))
    refused(trail, trail.closed, "forged", "does not verify with a trusted key")


def plant_public_key(engine: Engine, key: Ed25519PrivateKey) -> None:
    raw = key.public_key().public_bytes_raw()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    now = datetime.now(UTC)
    statement = text(
        "INSERT INTO signing_keys (kid, algorithm, public_jwk, created_at) "
        "VALUES (:kid, 'EdDSA', :jwk, :now)"
    )
    with engine.begin() as connection:
        connection.execute(statement, {"kid": "intruder", "jwk": json.dumps(jwk), "now": now})
