"""``enclave policy``: lint the policy files and explain what they decide for a request.

Exit codes: 0 fine (or allowed); 1 problems in the files (or the request would be refused);
2 the command could not run (bad options, unreadable request, no database).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import click
import msgspec

from gateway.auth.principal import Principal
from gateway.errors import ConfigurationError, InvalidRequestError
from gateway.policy.decision import Decision
from gateway.policy.evaluate import evaluate
from gateway.policy.explain import explanation_report, render_explanation
from gateway.policy.loader import load_policy_set
from gateway.policy.policy_set import PolicySet
from gateway.policy.problems import PolicyError
from gateway.policy.request import (
    PolicyRequest,
    policy_request_for_chat,
    policy_request_for_completion,
)
from gateway.wire.decode import decode_request
from gateway.wire.requests import ChatCompletionRequest, CompletionRequest

EXIT_PROBLEMS = 1
EXIT_CANNOT_RUN = 2
EXPLAIN_SUBJECT = "enclave-policy-explain"
"""The subject of the made-up principal a dry run evaluates as."""


class CannotRun(click.ClickException):
    """The command could not do its work; shown as one ``enclave: ...`` line."""

    exit_code = EXIT_CANNOT_RUN

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"enclave: {self.format_message()}", file=file, err=file is None)


class Refused(CannotRun):
    """What was asked for does not exist (an unknown tenant)."""

    exit_code = EXIT_PROBLEMS


def _dir_option(function: Any) -> Any:
    option = click.option(
        "--dir",
        "folder",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("policies"),
        envvar="ENCLAVE_POLICIES_DIR",
        show_default=True,
        help="policy folder (default.yaml plus one file per department)",
    )
    return option(function)


@click.group("policy")
def policy_group() -> None:
    """Department policies: check the files, explain a decision."""


@policy_group.command("check")
@_dir_option
def check_command(folder: Path) -> None:
    """Check every policy file; print each problem as file:line: field: problem."""
    try:
        policies = load_policy_set(folder)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} in {folder}", err=True)
        click.get_current_context().exit(EXIT_PROBLEMS)
    names = ", ".join(policies.departments)
    click.echo(f"OK: {len(policies.policies)} policies in {folder} ({names})")


@policy_group.command("explain")
@click.option("--tenant", required=True, help="tenant the request is made for")
@click.option("--department", help="the tenant's department (else looked up in the database)")
@click.option(
    "--request",
    "request_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="JSON body of a chat or text completion request",
)
@_dir_option
@click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts)")
@click.option(
    "--pii/--no-pii", default=True, help="also run the PII analyzer to show what it would redact"
)
def explain_command(
    tenant: str,
    department: str | None,
    request_file: Path,
    folder: Path,
    as_json: bool,
    pii: bool,
) -> None:
    """Dry run: which policy applies and what it decides, without calling the engine."""
    policies = _load_for_explain(folder)
    principal = Principal(
        tenant=tenant,
        department=department or _department_of(tenant),
        subject=EXPLAIN_SUBJECT,
        roles=frozenset(),
        token_id=None,
        issuer=EXPLAIN_SUBJECT,
    )
    decision = evaluate(policies, principal, read_policy_request(request_file))
    spans = _pii_spans(request_file, decision) if pii else None
    if as_json:
        report = explanation_report(decision)
        if spans is not None:
            report = {**report, "pii_spans": [msgspec.structs.asdict(span) for span in spans]}
        click.echo(msgspec.json.format(msgspec.json.encode(report)).decode())
    else:
        click.echo(render_explanation(decision))
        if spans is not None:
            click.echo(render_spans(spans))
        click.echo(
            "Prompt tokens are not counted in a dry run (that needs the engine's tokenizer)."
        )
    if not decision.allowed:
        click.get_current_context().exit(EXIT_PROBLEMS)


def _pii_spans(path: Path, decision: Decision) -> list[PiiSpanView]:
    """Run the real analyzer on the request's messages (seconds: it loads the NLP model)."""
    import anyio

    from gateway.redaction.analyzer import PiiAnalyzer
    from gateway.settings import load_settings

    texts = _request_texts(path.read_bytes())
    analyzer = PiiAnalyzer.build(load_settings().pii_nlp_model)
    found = anyio.run(analyzer.find_input_spans, texts, decision.pii)
    return [
        PiiSpanView(
            message=span.message,
            start=span.start,
            end=span.end,
            entity_type=span.entity_type,
            action=span.action,
        )
        for span in found
    ]


def _request_texts(body: bytes) -> list[str]:
    if "messages" in msgspec.json.decode(body, type=dict[str, Any]):
        return [message.text() for message in decode_request(body, ChatCompletionRequest).messages]
    prompt = decode_request(body, CompletionRequest).prompt
    return [prompt] if isinstance(prompt, str) else list(prompt)


class PiiSpanView(msgspec.Struct, frozen=True):
    """Where a rule would act, for the explanation: positions and types, never the values."""

    message: int
    start: int
    end: int
    entity_type: str
    action: str


def render_spans(spans: list[PiiSpanView]) -> str:
    if not spans:
        return "PII in this request: none found that the policy acts on."
    lines = ["PII in this request (positions after normalization; values are never shown):"]
    lines += [
        f"  message {span.message}, characters {span.start}-{span.end}: "
        f"{span.entity_type} -> {span.action}"
        for span in spans
    ]
    return "\n".join(lines)


def read_policy_request(path: Path) -> PolicyRequest:
    """The policy's view of a request body stored in ``path`` (checked like the API does)."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise CannotRun(f"{path}: cannot read: {exc.strerror}") from None
    try:
        is_chat = "messages" in msgspec.json.decode(body, type=dict[str, Any])
        if is_chat:
            return policy_request_for_chat(decode_request(body, ChatCompletionRequest))
        return policy_request_for_completion(decode_request(body, CompletionRequest))
    except (msgspec.DecodeError, InvalidRequestError) as exc:
        message = exc.message if isinstance(exc, InvalidRequestError) else str(exc)
        raise CannotRun(f"{path}: not a request the API would accept: {message}") from None


def _load_for_explain(folder: Path) -> PolicySet:
    try:
        return load_policy_set(folder)
    except PolicyError as exc:
        raise CannotRun(f"{exc}\n(run `enclave policy check --dir {folder}`)") from None


def _department_of(tenant: str) -> str:
    """The tenant's department from the identity database; ``--department`` skips this."""
    try:
        from gateway.cli.database import identity_session
        from gateway.identity.tenants import find_tenant
        from gateway.settings import load_settings
    except ImportError:
        raise CannotRun("tenants cannot be looked up in this build; give --department") from None
    try:
        with identity_session(load_settings()) as session:
            found = find_tenant(session, tenant)
    except ConfigurationError as exc:
        raise CannotRun(f"{exc}; or give --department") from None
    if found is None:
        raise Refused(f"no tenant named {tenant!r}; give --department")
    return found.department
