"""The compliance officer's view of real traffic: records found, exported, chain verified."""

from __future__ import annotations

import json

import openai
import pytest

from tests.e2e.conftest import RunningGateway

pytestmark = pytest.mark.e2e


def test_requests_are_found_and_the_chain_verifies(
    gateway: RunningGateway, client: openai.OpenAI
) -> None:
    reply = client.chat.completions.with_raw_response.create(
        model=gateway.model, messages=[{"role": "user", "content": "audit me"}], max_tokens=3
    )
    request_id = reply.headers["x-request-id"]
    found = json.loads(gateway.enclave("audit", "search", "--request-id", request_id, "--json"))
    records = found["records"] if isinstance(found, dict) else found
    assert {record["kind"] for record in records} == {"started", "completed"}
    assert all(record["tenant"] == "acme" for record in records)
    exported = gateway.enclave("audit", "export", "--format", "jsonl", "--request-id", request_id)
    assert len(exported.splitlines()) == 2
    gateway.enclave("audit", "verify")  # exit 0: every chain and signature checks out
