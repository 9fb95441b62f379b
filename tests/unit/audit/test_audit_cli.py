"""``enclave audit``: init-key, search, show, export, verify, purge; tables, JSON, exit codes."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.audit.config import AuditConfig
from gateway.audit.content import ContentSealer
from gateway.audit.events import StoredContent
from gateway.audit.keys import load_content_key
from gateway.audit.request import RequestAudit
from gateway.audit.signing import ChainSigner
from gateway.identity.clock import utc_now
from tests.unit.audit.cli import AuditCli
from tests.unit.audit.tamper import edit
from tests.unit.audit.trail import fill_trail, request_pair, write_events, write_old_chain

REPO = Path(__file__).resolve().parents[3]


def field(shown: str, label: str) -> str:
    """The value printed beside ``label:`` by ``audit show``."""
    line = next(line for line in shown.splitlines() if line.startswith(f"{label}:"))
    return line.split(":", 1)[1].strip()


@pytest.fixture
def cli(database_url: str, signing_key_file: Path) -> AuditCli:
    return AuditCli(
        env={
            "ENCLAVE_DATABASE_URL": database_url,
            "ENCLAVE_AUDIT_SIGNING_KEY_FILE": str(signing_key_file),
            "ENCLAVE_POLICIES_DIR": str(REPO / "policies"),
        }
    )


@pytest.fixture
def chain(engine: Engine, signer: ChainSigner, audit_config: AuditConfig) -> str:
    chain_id, _ = fill_trail(engine, signer, audit_config, requests=12)
    return chain_id


def test_init_key_creates_private_keys_once(tmp_path: Path) -> None:
    key = tmp_path / "audit" / "signing-key.pem"
    cli = AuditCli(env={"ENCLAVE_AUDIT_SIGNING_KEY_FILE": str(key)})
    created = cli.ok("audit", "init-key").stdout
    assert "Created audit signing key" in created
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "BEGIN" not in created, "never print key material"
    assert "exists already" in cli.refused("audit", "init-key")
    assert "Kept" in cli.ok("audit", "init-key", "--if-missing").stdout
    assert "Created" in cli.ok("audit", "init-key", "--rotate").stdout
    assert len(list(key.parent.glob("*.pub"))) == 2
    content_key = tmp_path / "audit" / "content.key"
    cli.env["ENCLAVE_AUDIT_CONTENT_KEY_FILE"] = str(content_key)
    assert "back it up" in cli.ok("audit", "init-key", "--content").stdout
    assert stat.S_IMODE(content_key.stat().st_mode) == 0o600


@pytest.mark.usefixtures("chain")
def test_search_shows_a_table_and_json(cli: AuditCli) -> None:
    table = cli.ok("audit", "search", "--kind", "completed", "--limit", "5")
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "TIME", "KIND", "REQUEST"]
    assert len(lines) == 6
    assert all(" completed " in line for line in lines[1:])
    assert "(more: --cursor " in table.stderr
    found = cli.json("audit", "search", "--tenant", "acme", "--entity-type", "EMAIL_ADDRESS")
    assert {record["kind"] for record in found["records"]} == {"started"}
    assert found["records"][0]["entity_counts"] == {"EMAIL_ADDRESS": 1}
    assert "No matching" in cli.ok("audit", "search", "--tenant", "nobody").stdout


@pytest.mark.usefixtures("chain")
def test_search_refuses_a_bad_date(cli: AuditCli) -> None:
    result = cli.run("audit", "search", "--since", "yesterday")
    assert result.exit_code == 2
    assert "is not a date" in result.stderr


@pytest.mark.usefixtures("chain")
def test_show_one_record_and_its_request(cli: AuditCli) -> None:
    record = cli.json("audit", "search", "--request-id", "req-00003", "--kind", "started")
    event_id = str(record["records"][0]["id"])
    shown = cli.ok("audit", "show", event_id).stdout
    assert field(shown, "request id") == "req-00003"
    assert "request records:" in shown
    as_json = cli.json("audit", "show", event_id)
    assert [r["kind"] for r in as_json["request_records"]] == ["started", "completed"]
    assert cli.refused("audit", "show", "999999") == "enclave: audit record 999999 not found"


def test_show_opens_full_content_only_when_asked(
    cli: AuditCli, engine: Engine, signer: ChainSigner, audit_config: AuditConfig, tmp_path: Path
) -> None:
    key_file = tmp_path / "content.key"
    cli.env["ENCLAVE_AUDIT_CONTENT_KEY_FILE"] = str(key_file)
    cli.ok("audit", "init-key", "--content")
    sealer = ContentSealer(load_content_key(AuditConfig(content_key_file=key_file)))
    audit = RequestAudit(request_id="req-secret", route="/v1/completions")
    content = sealer.keep(
        "full", redacted=None, original="the secret plan", request_id="req-secret"
    )
    asyncio.run(write_events(engine, signer, audit_config, [audit.started(content=content)]))
    (record,) = cli.json("audit", "search", "--request-id", "req-secret", "--kind", "started")[
        "records"
    ]
    sealed = cli.ok("audit", "show", str(record["id"])).stdout
    assert "content:" in sealed
    assert "enc:v1:" in sealed
    assert "secret plan" not in sealed
    opened = cli.ok("audit", "show", str(record["id"]), "--decrypt").stdout
    assert field(opened, "content") == "the secret plan"


@pytest.mark.usefixtures("chain")
def test_export_jsonl_to_a_file_and_csv_to_stdout(cli: AuditCli, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    result = cli.ok("audit", "export", "--format", "jsonl", "--output", str(target))
    lines = target.read_text().splitlines()
    assert len(lines) == 25
    assert "Exported 25 audit record(s)" in result.stderr
    assert json.loads(lines[0])["kind"] == "opened"
    exported = cli.ok("audit", "export", "--format", "csv", "--tenant", "acme").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 24
    assert rows[0]["roles"] == "app"
    assert rows[0]["entity_counts"] == '{"EMAIL_ADDRESS":1}'


def test_csv_export_defuses_formulas(
    cli: AuditCli, engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    audit = RequestAudit(request_id="req-formula", route="/v1/completions", tenant="acme")
    content = StoredContent(level="redacted", text='=HYPERLINK("http://evil")')
    asyncio.run(write_events(engine, signer, audit_config, [audit.started(content=content)]))
    exported = cli.ok("audit", "export", "--format", "csv", "--kind", "started").stdout
    (row,) = csv.DictReader(io.StringIO(exported))
    assert row["content"] == '\'=HYPERLINK("http://evil")'


def test_verify_passes_then_names_the_altered_row(
    cli: AuditCli, engine: Engine, chain: str
) -> None:
    passed = cli.ok("audit", "verify").stdout
    assert "25 record(s) in 1 chain(s): intact." in passed
    assert passed.splitlines()[0].split()[:3] == ["CHAIN", "RECORDS", "SEQ"]
    row_id = edit(engine, chain, 7, subject="someone-else")
    failed = cli.run("audit", "verify")
    assert failed.exit_code == 1
    assert f"chain {chain}: altered: row id {row_id} (seq 7)" in failed.stdout
    report = json.loads(cli.run("audit", "verify", "--json").stdout)
    assert report["ok"] is False
    assert report["chains"][0]["problem"]["row_id"] == row_id


def test_purge_asks_removes_and_the_trail_still_verifies(
    cli: AuditCli, engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    old = [event for number in range(5) for event in request_pair(number)]
    write_old_chain(engine, signer, audit_config, old, utc_now() - timedelta(days=4000))
    fill_trail(engine, signer, audit_config, requests=2)
    cutoff = (utc_now() - timedelta(days=3000)).date().isoformat()
    dry = cli.ok("audit", "purge", "--before", cutoff, "--dry-run").stdout
    assert dry.startswith("11 record(s) in 1 chain(s) can be removed")
    declined = cli.run("audit", "purge", "--before", cutoff, input="n\n")
    assert declined.exit_code == 1
    assert "Remove 11 audit record(s)?" in declined.stderr
    removed = cli.ok("audit", "purge", "--before", cutoff, "--yes").stdout
    assert "Removed 11 record(s)" in removed
    assert "intact" in cli.ok("audit", "verify").stdout
    assert (
        "0 record(s) in 0 chain(s)"
        in cli.ok("audit", "purge", "--before", cutoff, "--dry-run").stdout
    )


@pytest.mark.usefixtures("chain")
def test_purge_never_cuts_into_retention(cli: AuditCli) -> None:
    kept = cli.ok("audit", "purge", "--before", "2999-01-01", "--dry-run").stdout
    assert kept.startswith("0 record(s) in 0 chain(s) can be removed")
    assert "kept back by department retention" in kept
