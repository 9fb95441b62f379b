"""What the engine sees of a prompt under each action, direction and threshold."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidRequestError
from gateway.redaction import PiiAnalyzer, PiiBlockedError
from tests.unit.redaction.policies import full_width, policy, rule

pytestmark = pytest.mark.anyio

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"


async def test_redact_puts_the_typed_placeholder_in_place(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input(
        [f"Mail {EMAIL} about it."], policy(EMAIL_ADDRESS=rule("redact"))
    )
    assert result.texts == ("Mail <EMAIL_ADDRESS> about it.",)
    assert result.entity_counts == {"EMAIL_ADDRESS": 1}
    assert len(result.pseudonyms) == 0


async def test_pseudonymize_numbers_each_value_and_remembers_it(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input(
        ["Mail jane@example.com and bob@example.org, then jane@example.com again."],
        policy(EMAIL_ADDRESS=rule("pseudonymize")),
    )
    assert result.texts == (
        "Mail <EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1> again.",
    )
    assert result.pseudonyms.original("<EMAIL_ADDRESS_1>") == "jane@example.com"
    assert result.pseudonyms.original("<EMAIL_ADDRESS_2>") == "bob@example.org"
    assert result.entity_counts == {"EMAIL_ADDRESS": 3}


async def test_block_refuses_with_400_naming_the_types_only(analyzer: PiiAnalyzer) -> None:
    pii = policy(CREDIT_CARD=rule("block"), EMAIL_ADDRESS=rule("redact"))
    with pytest.raises(PiiBlockedError) as refused:
        await analyzer.redact_input([f"Charge {CARD}, receipt to {EMAIL}"], pii)
    error = refused.value
    assert isinstance(error, InvalidRequestError)
    assert error.status_code == 400
    assert error.code == "pii_blocked"
    assert error.entity_types == ("CREDIT_CARD",)
    assert "CREDIT_CARD" in error.message
    body = str(error.to_body())
    assert "4111" not in body
    assert EMAIL not in body
    assert error.entity_counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1}


async def test_allow_leaves_the_value_and_does_not_look_for_it(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input(
        [f"Mail {EMAIL}"], policy(EMAIL_ADDRESS=rule("allow"), CREDIT_CARD=rule("block"))
    )
    assert result.texts == (f"Mail {EMAIL}",)
    assert result.entity_counts == {}


async def test_types_the_policy_does_not_list_are_not_looked_for(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input([f"Card {CARD}"], policy(EMAIL_ADDRESS=rule("redact")))
    assert result.texts == (f"Card {CARD}",)


@pytest.mark.parametrize(
    ("direction", "redacted"), [("input", True), ("both", True), ("output", False)]
)
async def test_only_input_and_both_rules_apply_to_prompts(
    analyzer: PiiAnalyzer, direction: str, redacted: bool
) -> None:
    pii = policy(EMAIL_ADDRESS=rule("redact", direction))  # type: ignore[arg-type]
    result = await analyzer.redact_input([f"Mail {EMAIL}"], pii)
    assert (EMAIL not in result.texts[0]) is redacted


PHONE_WITHOUT_CONTEXT = "Ref 2125550123 tomorrow."  # ten bare digits score 0.4


@pytest.mark.parametrize(
    ("pii_threshold", "rule_threshold", "redacted"),
    [(0.5, None, False), (0.4, None, True), (0.5, 0.4, True), (0.3, 0.6, False)],
)
async def test_thresholds_policy_wide_and_per_entity(
    analyzer: PiiAnalyzer, pii_threshold: float, rule_threshold: float | None, redacted: bool
) -> None:
    pii = policy(threshold=pii_threshold, PHONE_NUMBER=rule("redact", threshold=rule_threshold))
    result = await analyzer.redact_input([PHONE_WITHOUT_CONTEXT], pii)
    assert ("2125550123" not in result.texts[0]) is redacted


async def test_context_words_raise_a_weak_match_over_the_threshold(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input(
        ["My phone number is 212-555-0123."], policy(PHONE_NUMBER=rule("redact"))
    )
    assert result.texts == ("My phone number is <PHONE_NUMBER>.",)


async def test_names_need_the_statistical_model_and_get_it(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input(
        ["Please write to Maria Gonzalez in Madrid."],
        policy(PERSON=rule("pseudonymize"), LOCATION=rule("redact")),
    )
    assert result.texts == ("Please write to <PERSON_1> in <LOCATION>.",)
    assert result.pseudonyms.original("<PERSON_1>") == "Maria Gonzalez"


async def test_an_empty_policy_changes_nothing_but_normalization(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input([full_width("hello") + "\u200b"], policy())
    assert result.texts == ("hello",)
