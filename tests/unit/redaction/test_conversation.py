"""Every message is screened, and values split between messages are found too."""

from __future__ import annotations

import pytest

from gateway.redaction import PiiAnalyzer, PiiBlockedError
from tests.unit.redaction.policies import policy, rule

pytestmark = pytest.mark.anyio


async def test_system_user_and_assistant_messages_are_all_screened(analyzer: PiiAnalyzer) -> None:
    messages = [
        "You help ops@example.com with billing.",  # system
        "My card is 4111 1111 1111 1111.",  # user
        "I will not repeat 4111 1111 1111 1111.",  # assistant history
        "And mail me at jane@example.com",  # user
    ]
    pii = policy(EMAIL_ADDRESS=rule("redact"), CREDIT_CARD=rule("redact"))
    result = await analyzer.redact_input(messages, pii)
    assert result.texts == (
        "You help <EMAIL_ADDRESS> with billing.",
        "My card is <CREDIT_CARD>.",
        "I will not repeat <CREDIT_CARD>.",
        "And mail me at <EMAIL_ADDRESS>",
    )
    assert result.entity_counts == {"CREDIT_CARD": 2, "EMAIL_ADDRESS": 2}


async def test_a_blocked_value_in_an_old_assistant_message_still_blocks(
    analyzer: PiiAnalyzer,
) -> None:
    messages = ["hi", "Your IBAN is DE89 3704 0044 0532 0130 00.", "thanks"]
    with pytest.raises(PiiBlockedError):
        await analyzer.redact_input(messages, policy(IBAN_CODE=rule("block")))


async def test_a_number_split_between_two_messages_is_redacted_in_both(
    analyzer: PiiAnalyzer,
) -> None:
    messages = ["my mobile is 138 1234", "5678, call me"]
    result = await analyzer.redact_input(messages, policy(CN_MOBILE=rule("redact")))
    assert result.texts == ("my mobile is <CN_MOBILE>", "<CN_MOBILE>, call me")
    assert result.entity_counts == {"CN_MOBILE": 1}
    assert not any(digits in text for text in result.texts for digits in ("1234", "5678"))


async def test_a_card_split_over_three_messages_is_caught(analyzer: PiiAnalyzer) -> None:
    messages = ["card 4111 1111", " 1111", " 1111 thanks"]
    result = await analyzer.redact_input(messages, policy(CREDIT_CARD=rule("redact")))
    assert "1111" not in "".join(result.texts)
    assert result.entity_counts == {"CREDIT_CARD": 1}


async def test_a_split_value_blocks_when_its_type_is_blocked(analyzer: PiiAnalyzer) -> None:
    with pytest.raises(PiiBlockedError):
        await analyzer.redact_input(
            ["card 4111 1111", "1111 1111"], policy(CREDIT_CARD=rule("block"))
        )


async def test_a_split_value_gets_one_pseudonym_for_the_whole_value(
    analyzer: PiiAnalyzer,
) -> None:
    messages = ["write to jane.doe@exa", "mple.com please"]
    result = await analyzer.redact_input(messages, policy(EMAIL_ADDRESS=rule("pseudonymize")))
    assert result.texts == ("write to <EMAIL_ADDRESS_1>", "<EMAIL_ADDRESS_1> please")
    assert result.pseudonyms.original("<EMAIL_ADDRESS_1>") == "jane.doe@example.com"


async def test_messages_that_merely_touch_are_not_merged(analyzer: PiiAnalyzer) -> None:
    messages = ["The answer is 42.", "Order 7 more."]
    result = await analyzer.redact_input(
        messages, policy(PHONE_NUMBER=rule("redact", threshold=0.3))
    )
    assert result.texts == tuple(messages)


async def test_context_in_one_message_helps_the_next(analyzer: PiiAnalyzer) -> None:
    messages = ["What is your phone number?", "212-555-0123"]
    result = await analyzer.redact_input(messages, policy(PHONE_NUMBER=rule("redact")))
    assert result.texts[1] == "<PHONE_NUMBER>"
