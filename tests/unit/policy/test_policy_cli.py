"""``enclave policy check`` and ``enclave policy explain``, run with click's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gateway.cli.database import identity_session
from gateway.cli.policy import policy_group
from gateway.db.session import upgrade_database
from gateway.identity.tenants import create_tenant
from gateway.settings import load_settings
from tests.unit.policy.policy_folder import PolicyFolder

SHIPPED_DEPARTMENTS = ("default", "engineering", "finance", "hr", "research", "support")
SMALL_CHAT: dict[str, Any] = {
    "model": "smollm2-135m-instruct",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "My card is 4111 1111 1111 1111, can you help?"},
    ],
    "max_tokens": 64,
    "temperature": 0.2,
}


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    hidden = {name: None for name in os.environ if name.startswith("ENCLAVE_")}
    return CliRunner().invoke(policy_group, list(args), env={**hidden, **(env or {})})


def write_request(tmp_path: Path, body: dict[str, Any]) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    return path


def test_check_passes_on_the_shipped_policies(shipped_policies: Path) -> None:
    result = run("check", "--dir", str(shipped_policies))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"OK: 6 policies in {shipped_policies} "
        "(default, engineering, finance, hr, research, support)\n"
    )


def test_check_prints_every_problem_and_exits_1(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\nlimits: {max_n: 0}\nbogus: 1\n")
    folder.write("hr", "extends: nope\n")
    result = run("check", "--dir", str(folder.path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{folder.file('finance')}:2: limits.max_n: expected an integer >= 1, got 0",
        f"{folder.file('finance')}:3: bogus: unknown field (expected one of: extends, "
        "description, models, limits, rate_limits, pii, audit, cache)",
        f'{folder.file("hr")}:1: extends: no policy named "nope" (have: default, finance, hr)',
        f"3 problems in {folder.path}",
    ]


def test_check_reads_the_folder_from_the_environment(folder: PolicyFolder) -> None:
    result = run("check", env={"ENCLAVE_POLICIES_DIR": str(folder.path)})
    assert result.exit_code == 0
    assert "(default)" in result.stdout


@pytest.mark.parametrize("department", SHIPPED_DEPARTMENTS)
def test_explain_describes_each_shipped_department(
    shipped_policies: Path, tmp_path: Path, department: str
) -> None:
    request = write_request(tmp_path, SMALL_CHAT)
    result = run(
        "explain", "--no-pii", "--tenant", "acme", "--department", department,
        "--request", str(request), "--dir", str(shipped_policies),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Tenant acme, department {department}" in out
    chain = "default" if department == "default" else f"{department} → default"
    assert f"Policy: {chain}\n" in out
    assert "Decision: allowed" in out
    for section in ("Limits", "Rate limits", "per tenant", "per department", "PII (", "Audit: "):
        assert section in out
    assert "CREDIT_CARD" in out
    assert "4111" not in out  # the request's content is never echoed


def test_explain_shows_why_a_request_would_be_refused(
    shipped_policies: Path, tmp_path: Path
) -> None:
    body = {**SMALL_CHAT, "model": "gpt-4o", "max_tokens": 4000, "top_p": 0.5}
    request = write_request(tmp_path, body)
    result = run(
        "explain", "--no-pii", "--tenant", "acme", "--department", "finance",
        "--request", str(request), "--dir", str(shipped_policies),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Decision: refused\n" in result.stdout
    assert '  - models: model "gpt-4o" is not allowed by the "finance" policy\n' in result.stdout
    assert "  - limits.max_tokens: 4000 tokens requested, the limit is 1024\n" in result.stdout
    assert '  - limits.allowed_parameters: parameter "top_p" is not allowed' in result.stdout


def test_explain_as_json(shipped_policies: Path, tmp_path: Path) -> None:
    request = write_request(tmp_path, {"model": "m", "prompt": "hello", "max_tokens": 5})
    result = run(
        "explain", "--no-pii", "--tenant", "acme", "--department", "engineering",
        "--request", str(request), "--dir", str(shipped_policies), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["policy"] == "engineering"
    assert report["extends"] == ["default"]
    assert report["allowed"] is True
    assert report["max_tokens"] == 5
    assert report["pii"]["recognizers"]["EMPLOYEE_ID"]["context"][0] == "employee"
    assert report["audit"] == {"content": "redacted", "retention_days": 180}
    assert report["rate_limits"]["per_tenant"]["burst"] == 50


def test_explain_refuses_a_body_the_api_would_refuse(
    shipped_policies: Path, tmp_path: Path
) -> None:
    request = write_request(tmp_path, {"model": "m", "messages": [], "bogus": 1})
    result = run(
        "explain", "--no-pii", "--tenant", "acme", "--department", "hr",
        "--request", str(request), "--dir", str(shipped_policies),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "not a request the API would accept" in result.stderr


def test_explain_with_broken_policies_points_at_check(folder: PolicyFolder, tmp_path: Path) -> None:
    folder.write("hr", "extends: default\naudit: {retention_days: 0}\n")
    request = write_request(tmp_path, SMALL_CHAT)
    result = run(
        "explain", "--no-pii", "--tenant", "acme", "--department", "hr",
        "--request", str(request), "--dir", str(folder.path),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "audit.retention_days: expected an integer >= 1, got 0" in result.stderr
    assert "enclave policy check" in result.stderr


def test_explain_looks_up_the_tenants_department(shipped_policies: Path, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'enclave.db'}"
    upgrade_database(database_url)
    with identity_session(load_settings({"ENCLAVE_DATABASE_URL": database_url})) as session:
        create_tenant(session, "ledger-app", "finance")
    request = write_request(tmp_path, SMALL_CHAT)
    env = {"ENCLAVE_DATABASE_URL": database_url}
    args = ["--request", str(request), "--dir", str(shipped_policies)]

    found = run("explain", "--tenant", "ledger-app", *args, env=env)
    assert found.exit_code == 0, found.output
    assert "Policy: finance → default" in found.stdout

    missing = run("explain", "--tenant", "nobody", *args, env=env)
    assert missing.exit_code == 1
    assert "no tenant named 'nobody'; give --department" in missing.stderr


def test_explain_names_the_spans_it_would_redact_never_the_values(
    shipped_policies: Path, tmp_path: Path
) -> None:
    text = "Email jane.doe@example.com about employee EMP-123456, please."
    request = write_request(
        tmp_path, {"model": "m", "messages": [{"role": "user", "content": text}]}
    )
    result = run(
        "explain",
        "--tenant",
        "acme",
        "--department",
        "engineering",
        "--request",
        str(request),
        "--dir",
        str(shipped_policies),
        "--json",
    )
    assert result.exit_code == 0, result.output
    spans = json.loads(result.output)["pii_spans"]
    found = {(span["entity_type"], span["action"]) for span in spans}
    assert found == {("EMAIL_ADDRESS", "redact"), ("EMPLOYEE_ID", "pseudonymize")}
    email = next(span for span in spans if span["entity_type"] == "EMAIL_ADDRESS")
    assert text[email["start"] : email["end"]] == "jane.doe@example.com"
    assert "jane.doe@example.com" not in result.output
    assert "EMP-123456" not in result.output
