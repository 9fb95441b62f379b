"""Raw values never show up in counts, errors, reprs or log lines."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from gateway.redaction import PiiAnalyzer, PiiBlockedError
from tests.unit.redaction.policies import policy, rule

pytestmark = pytest.mark.anyio

VALUES = ["jane.doe@example.com", "4111 1111 1111 1111", "Maria Gonzalez", "13812345678"]
PROMPT = f"I am {VALUES[2]}, mail {VALUES[0]}, card {VALUES[1]}, mobile {VALUES[3]}."
PII = policy(
    EMAIL_ADDRESS=rule("redact"),
    CREDIT_CARD=rule("redact"),
    PERSON=rule("pseudonymize"),
    CN_MOBILE=rule("pseudonymize"),
)


def assert_clean(text: str) -> None:
    for value in VALUES:
        assert value not in text
    for fragment in ("4111", "jane", "Maria"):
        assert fragment not in text


async def test_a_redacted_request_exposes_types_and_counts_only(analyzer: PiiAnalyzer) -> None:
    with capture_logs() as logs:
        result = await analyzer.redact_input([PROMPT], PII)
        output = analyzer.output_filter(PII, result.pseudonyms)
        await output.feed(f"Hello <PERSON_1>, your mail {VALUES[0]} is noted.")
        await output.finish()
    assert result.entity_counts == {
        "CN_MOBILE": 1, "CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "PERSON": 1,
    }  # fmt: skip
    assert_clean(repr(result.entity_counts) + repr(output.entity_counts))
    assert_clean("".join(result.texts) + output.redacted_text)
    assert_clean(repr(result) + repr(result.pseudonyms))
    assert_clean(repr(logs))


async def test_a_blocked_request_logs_and_raises_types_only(analyzer: PiiAnalyzer) -> None:
    with capture_logs() as logs, pytest.raises(PiiBlockedError) as refused:
        await analyzer.redact_input(
            [PROMPT], policy(CREDIT_CARD=rule("block"), PERSON=rule("redact"))
        )
    assert_clean(str(refused.value) + repr(refused.value.to_body()) + repr(refused.value.args))
    assert logs[0]["event"] == "pii_blocked"
    assert logs[0]["entity_types"] == ["CREDIT_CARD"]
    assert_clean(repr(logs))
