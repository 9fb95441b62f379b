"""``verify`` on SQLite and PostgreSQL: each kind of tampering is detected and the row named.

The trail holds one chain: an opening record and 30 requests (seq 1-61), a checkpoint every
10 records and a final one at 61. Tampering is done in plain SQL, as an intruder would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, insert

from gateway.audit.canonical import record_hash
from gateway.audit.config import AuditConfig
from gateway.audit.diagnose import ChainProblem
from gateway.audit.keys import create_signing_key, trusted_public_keys
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.audit.verify import verify_trail
from gateway.errors import ConfigurationError
from tests.unit.audit.tamper import (
    delete_seq,
    edit,
    insert_forged,
    rehash_from,
    row_at,
    shift,
    swap,
)
from tests.unit.audit.trail import execute, fill_trail, request_pair, write_events

Keys = dict[str, Ed25519PublicKey]


@pytest.fixture
def chain(engine: Engine, signer: ChainSigner, audit_config: AuditConfig) -> str:
    chain_id, _ = fill_trail(engine, signer, audit_config, requests=30)
    return chain_id


def only_problem(engine: Engine, keys: Keys) -> ChainProblem:
    report = verify_trail(engine, keys)
    problems = [chain.problem for chain in report.chains if chain.problem is not None]
    assert len(problems) == 1, report
    return problems[0]


def test_an_untouched_trail_verifies(engine: Engine, chain: str, public_keys: Keys) -> None:
    report = verify_trail(engine, public_keys)
    assert report.ok
    (only,) = report.chains
    assert (only.chain_id, only.records, only.first_seq, only.last_seq) == (chain, 61, 1, 61)
    assert (only.signed_through, only.closed, only.purged_through) == (61, True, None)


def test_an_edited_field_names_the_row(engine: Engine, chain: str, public_keys: Keys) -> None:
    row_id = edit(engine, chain, 25, tenant="mallory")
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.row_id, problem.seq) == ("altered", row_id, 25)
    assert f"row id {row_id} (seq 25): its contents do not match its hash" in problem.message


def test_edited_entity_counts_and_content_are_detected(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    row_id = edit(engine, chain, 40, entity_counts=None)
    assert only_problem(engine, public_keys).row_id == row_id
    edit(engine, chain, 40, entity_counts='{"EMAIL_ADDRESS":1}')
    assert verify_trail(engine, public_keys).ok
    row_id = edit(engine, chain, 41, content="rewritten")
    assert only_problem(engine, public_keys).row_id == row_id


def test_an_edited_and_rehashed_row_is_named_by_the_next_link(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    row_id = edit(engine, chain, 25, rehash=True, status=500)
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.row_id, problem.seq) == ("altered", row_id, 25)
    assert "hash recomputed" in problem.message


def test_a_deleted_row_is_named_by_its_seq(engine: Engine, chain: str, public_keys: Keys) -> None:
    after = row_at(engine, chain, 26)["id"]
    delete_seq(engine, chain, 25)
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.row_id, problem.seq) == ("deleted", None, 25)
    assert f"record seq 25 is missing (the chain resumes at row id {after}, seq 26)" in (
        problem.message
    )


def test_a_deleted_row_hidden_by_renumbering_is_detected(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    delete_seq(engine, chain, 25)
    shift(engine, chain, 26, -1)
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.seq) == ("deleted", 25)
    assert "removed and later records renumbered" in problem.message


def test_deleted_rows_at_the_end_are_caught_by_the_signed_checkpoint(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    delete_seq(engine, chain, *range(55, 62))
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.seq) == ("deleted", 55)
    assert "records seq 55-60 are missing from the end of the chain" in problem.message


def test_a_truncated_tail_without_its_checkpoints_is_still_detected(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    delete_seq(engine, chain, *range(58, 62))
    execute(engine, "DELETE FROM audit_checkpoints WHERE seq >= 60")
    problem = only_problem(engine, public_keys)
    assert problem.kind == "deleted"
    assert "closed but its final signed checkpoint is missing" in problem.message


def test_a_row_slipped_in_with_renumbering_is_named(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    forged_id = insert_forged(engine, chain, 25, request_id="req-forged", tenant="mallory")
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.row_id, problem.seq) == ("inserted", forged_id, 25)


def test_a_row_appended_after_the_final_checkpoint_is_named(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    template = row_at(engine, chain, 61)
    forged = {**template, "seq": 62, "prev_hash": template["hash"], "request_id": "req-late"}
    forged.pop("id")
    forged["hash"] = record_hash(forged)
    with engine.begin() as connection:
        forged_id = connection.execute(
            insert(EVENT_TABLE).values(forged).returning(EVENT_TABLE.c.id)
        ).scalar_one()
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.row_id, problem.seq) == ("inserted", forged_id, 62)
    assert "follows the chain's final signed checkpoint" in problem.message


def test_swapped_rows_are_named_as_reordered(engine: Engine, chain: str, public_keys: Keys) -> None:
    _, moved_up = swap(engine, chain, 25, 26)
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.row_id, problem.seq) == ("reordered", moved_up, 25)
    assert "records were reordered" in problem.message


def test_reordering_hidden_by_rehashing_is_caught_by_the_checkpoint(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    _, moved_up = swap(engine, chain, 25, 26)
    rehash_from(engine, chain, 25)
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.row_id, problem.seq) == ("reordered", moved_up, 25)
    assert "re-hashed" in problem.message


def test_a_rewritten_and_rehashed_stretch_is_caught_by_the_checkpoint(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    edit(engine, chain, 33, tenant="mallory")
    rehash_from(engine, chain, 33)
    problem = only_problem(engine, public_keys)
    signed_row = row_at(engine, chain, 40)["id"]
    assert (problem.kind, problem.row_id, problem.seq) == ("altered", signed_row, 40)
    assert "between seq 31 and 40 were rewritten and re-hashed" in problem.message


def test_a_forged_checkpoint_signature_is_detected(
    engine: Engine, chain: str, public_keys: Keys
) -> None:
    execute(
        engine, "UPDATE audit_checkpoints SET signature = :forged WHERE seq = 30", forged="A" * 88
    )
    problem = only_problem(engine, public_keys)
    assert (problem.kind, problem.seq) == ("forged", 30)
    assert problem.checkpoint_id is not None


def test_checkpoints_signed_by_an_unknown_key_are_not_trusted(
    engine: Engine, chain: str, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger" / "key.pem"
    create_signing_key(stranger)
    problem = only_problem(engine, trusted_public_keys(stranger))
    assert problem.kind == "forged"


def test_a_chain_deleted_whole_is_missed_by_the_next_one(
    engine: Engine, chain: str, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    asyncio.run(write_events(engine, signer, audit_config, request_pair(99)))
    for table in ("audit_events", "audit_checkpoints", "audit_chains"):
        execute(engine, f"DELETE FROM {table} WHERE chain_id = :chain", chain=chain)  # noqa: S608
    report = verify_trail(engine, public_keys)
    missing = next(report_ for report_ in report.chains if report_.chain_id == chain)
    assert missing.records == 0
    assert missing.problem is not None
    assert missing.problem.kind == "deleted"
    assert "saw this chain at seq 61" in missing.problem.message


def test_verify_needs_a_trusted_key(engine: Engine, chain: str) -> None:
    with pytest.raises(ConfigurationError, match="no trusted audit public key"):
        verify_trail(engine, {})
