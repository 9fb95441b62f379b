"""Fuzz every route of Enclave's own OpenAPI document with schemathesis, through the real app.

The document is fetched from the app itself (``/openapi/openapi.json``); schemathesis
generates valid and invalid requests for every operation from it and sends them, in
process, with a valid token that holds every role (app, admin, compliance), so each
request reaches the handler behind its guard. Around the app: the echo engine, the real
Presidio analyzer, the real audit writer on SQLite, a policy that allows every parameter
and rate limits out of reach (429s would hide the handlers).

What must hold for every generated request: no 5xx (the gateway never crashes on input),
every error is OpenAI's ``{"error": {...}}`` envelope, and the engine only ever sees
requests that passed the gates. CI runs ``ENCLAVE_FUZZ_EXAMPLES`` (default 15) examples per
operation; ``make fuzz`` runs thousands.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from gateway.app import create_app
from gateway.audit.config import AuditConfig
from gateway.audit.keys import create_content_key, create_signing_key
from gateway.audit.setup import build_audit_trail
from gateway.db.session import create_db_engine, create_session_factory, upgrade_database
from gateway.metrics.registry import GatewayMetrics
from gateway.policy.store import PolicyStore
from gateway.ratelimit.limiter import RateLimiter
from gateway.redaction.analyzer import PiiAnalyzer
from gateway.services import Services
from gateway.settings import Settings
from tests.support.databases import sqlite_url
from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import AUDIENCE, ISSUER, MemoryDirectory, TokenFactory
from tests.support.policies import default_policy_with_rates

EXAMPLES = int(os.environ.get("ENCLAVE_FUZZ_EXAMPLES", "15"))
"""Generated requests per operation and mode; ``make fuzz`` raises it."""
SCHEMA_PATH = "/openapi/openapi.json"
ENVELOPE_EXTRAS = {"explanation"}
"""Fields Enclave adds beside OpenAI's four: a policy refusal explains which rule refused."""
OUT_OF_REACH = {
    "requests_per_minute": 100_000_000,
    "tokens_per_minute": 1_000_000_000,
    "burst": 10_000_000,
    "concurrent_requests": 100_000,
}
FUZZ_POLICY = """\
extends: default
description: Everything the schema allows, so the fuzzer reaches every sampling path.
limits: {max_tokens: 4096, max_n: 16, max_messages: 1024, allowed_parameters: ["*"]}
"""


def fuzz_policies(folder: Path) -> PolicyStore:
    """The shipped default with rate limits out of reach, and a department allowing all."""
    default_policy_with_rates(folder, tenant=OUT_OF_REACH, department=OUT_OF_REACH)
    (folder / "fuzz.yaml").write_text(FUZZ_POLICY)
    return PolicyStore.open(folder)


def fuzz_services(work: Path, engine: EchoEngine, analyzer: PiiAnalyzer) -> Services:
    url = sqlite_url(work)
    upgrade_database(url)
    database = create_db_engine(url)
    keys = work / "audit-keys"
    create_signing_key(keys / "signing-key.pem")
    create_content_key(keys / "content.key")
    audit = build_audit_trail(
        database,
        AuditConfig(
            signing_key_file=keys / "signing-key.pem", content_key_file=keys / "content.key"
        ),
    )
    return Services(
        engine=engine,
        directory=MemoryDirectory(),
        sessions=create_session_factory(database),
        policies=fuzz_policies(work / "policies"),
        limiter=asyncio.run(RateLimiter.connect("memory://")),
        metrics=GatewayMetrics(),
        analyzer=analyzer,
        audit=audit,
    )


@pytest.fixture
def fuzzed_gateway(
    tmp_path_factory: pytest.TempPathFactory, pii_analyzer: PiiAnalyzer
) -> Iterator[tuple[Litestar, dict[str, str], EchoEngine]]:
    """The app (its lifespan runs from schemathesis's first request to the end of the test)
    and the headers of an all-roles token."""
    work = tmp_path_factory.mktemp("fuzz")
    engine = EchoEngine()
    services = fuzz_services(work, engine, pii_analyzer)
    directory = services.directory
    assert isinstance(directory, MemoryDirectory)
    tokens = TokenFactory(keys_dir=work / "token-keys", directory=directory)
    tokens.add_tenant("fuzz-app", "fuzz")
    token, _ = tokens.issue("fuzz-app", ("app", "admin", "compliance"))
    settings_ = Settings(
        certs_dir=work / "certs",
        keys_dir=work / "keys",  # POST /admin/keys/rotate writes here, never into var/
        model=work / "echo-model",
        max_request_bytes=65536,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    app = create_app(settings_, services)
    yield app, {"authorization": f"Bearer {token}"}, engine
    asgi.shutdown_lifespans()  # stops the audit writer and the policy watcher


@pytest.fixture
def enclave_schema(
    fuzzed_gateway: tuple[Litestar, dict[str, str], EchoEngine],
) -> schemathesis.BaseSchema:
    app, headers, _ = fuzzed_gateway
    return schemathesis.openapi.from_asgi(SCHEMA_PATH, app, headers=headers)


def openai_error(response: Any) -> dict[str, Any]:
    """The ``error`` object of an error response; fails the test if it is anything else."""
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), response.headers
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) - ENVELOPE_EXTRAS == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    return error


def check_answer(case: schemathesis.Case, headers: dict[str, str], statuses: Counter[int]) -> None:
    response = case.call(headers=headers)
    statuses[response.status_code] += 1
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
        f"\n{case.as_curl_command()}"
    )
    if response.status_code >= 400 and not is_browser_page(case, response):
        openai_error(response)


def asking_for_the_served_model(case: schemathesis.Case) -> schemathesis.Case:
    """Random model names all end in 404; name the served model so bodies reach the engine."""
    if isinstance(case.body, dict) and isinstance(case.body.get("model"), str):
        case.body["model"] = ECHO_MODEL
    return case


def is_browser_page(case: schemathesis.Case, response: Any) -> bool:
    """The compliance web pages answer browsers in HTML, errors included (by design)."""
    content_type = (response.headers.get("content-type") or [""])[0]
    return case.path.startswith("/audit/ui") and content_type.startswith("text/html")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(
    enclave_schema: schemathesis.BaseSchema,
    fuzzed_gateway: tuple[Litestar, dict[str, str], EchoEngine],
    mode: GenerationMode,
) -> None:
    """Every operation, EXAMPLES requests each: valid ones (positive) or broken ones (negative)."""
    _, headers, engine = fuzzed_gateway
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in enclave_schema.get_all_operations()]
    assert len(operations) >= 15, "the document lists every route"
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode).map(asking_for_the_served_model))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time, raw example
        )
        def answer_is_never_a_server_error(case: schemathesis.Case) -> None:
            check_answer(case, headers, statuses)

        answer_is_never_a_server_error()
    print(f"{mode.value}: {statuses.total()} requests, {len(engine.finished)} reached the engine;")
    print(f"  by status: {dict(sorted(statuses.items()))}")
    if mode is GenerationMode.POSITIVE:
        assert statuses[200] > 0, "valid requests were answered"
        assert engine.finished, "valid requests reached the engine"
