"""Completions are redacted on the way out, and no value escapes between stream chunks."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from gateway.policy.schema import PiiPolicy
from gateway.redaction import OutputFilter, PiiAnalyzer, PseudonymTable
from tests.unit.redaction.policies import employee_ids, policy, rule

pytestmark = pytest.mark.anyio

OUTPUT_POLICY = policy(
    EMAIL_ADDRESS=rule("redact"),
    PHONE_NUMBER=rule("redact"),
    CREDIT_CARD=rule("redact"),
    IBAN_CODE=rule("redact"),
)
SECRETS = {
    "EMAIL_ADDRESS": "jane.doe@example.com",
    "PHONE_NUMBER": "+1 212-555-0123",
    "CREDIT_CARD": "4111 1111 1111 1111",
    "IBAN_CODE": "DE89 3704 0044 0532 0130 00",
}
COMPLETION = (
    f"Sure. Write to {SECRETS['EMAIL_ADDRESS']} or phone {SECRETS['PHONE_NUMBER']}; "
    f"the card {SECRETS['CREDIT_CARD']} is charged and the refund goes to "
    f"{SECRETS['IBAN_CODE']} within a week."
)
EXPECTED = (
    "Sure. Write to <EMAIL_ADDRESS> or phone <PHONE_NUMBER>; the card <CREDIT_CARD> is "
    "charged and the refund goes to <IBAN_CODE> within a week."
)


def chunkings(text: str) -> Iterator[list[str]]:
    yield list(text)  # one character at a time
    yield [text[i : i + 2] for i in range(0, len(text), 2)]
    yield [text]  # a whole completion
    for seed in range(6):
        chooser, pieces, position = random.Random(seed), [], 0
        while position < len(text):
            size = chooser.randint(1, 9)
            pieces.append(text[position : position + size])
            position += size
        yield pieces


async def stream(output: OutputFilter, chunks: list[str]) -> tuple[str, list[str]]:
    sent = [await output.feed(chunk) for chunk in chunks]
    sent.append(await output.finish())
    return "".join(sent), sent


@pytest.mark.parametrize("chunks", list(chunkings(COMPLETION)), ids=lambda c: f"{len(c)}-chunks")
async def test_no_value_escapes_however_the_stream_is_cut(
    analyzer: PiiAnalyzer, chunks: list[str]
) -> None:
    output = analyzer.output_filter(OUTPUT_POLICY, PseudonymTable())
    text, _ = await stream(output, chunks)
    assert text == EXPECTED
    assert output.entity_counts == {t: 1 for t in sorted(SECRETS)}


async def test_digits_of_a_card_never_go_out_before_the_card_is_known(
    analyzer: PiiAnalyzer,
) -> None:
    output = analyzer.output_filter(OUTPUT_POLICY, PseudonymTable())
    _, sent = await stream(output, list("card 4111 1111 1111 1111 ok"))
    assert all("1" not in piece for piece in sent)


async def test_text_without_entities_goes_out_promptly(analyzer: PiiAnalyzer) -> None:
    output = analyzer.output_filter(OUTPUT_POLICY, PseudonymTable())
    assert await output.feed("Hello") == ""  # could still become Hello@example.com
    assert await output.feed(", how are") == "Hello, how "
    assert await output.feed(" you?") + await output.finish() == "are you?"


async def test_types_found_by_the_model_hold_back_a_window(analyzer: PiiAnalyzer) -> None:
    output = analyzer.output_filter(policy(PERSON=rule("redact")), PseudonymTable())
    text = "The meeting with Maria Gonzalez is moved to the afternoon, as agreed with the team."
    sent = [await output.feed(word + " ") for word in text.split(" ")]
    assert "".join(sent) + await output.finish() == text.replace("Maria Gonzalez", "<PERSON>") + " "
    assert sent[0] == ""  # the first words wait for the window


async def test_placeholders_are_restored_after_output_redaction(analyzer: PiiAnalyzer) -> None:
    pii = policy(PERSON=rule("pseudonymize"), EMAIL_ADDRESS=rule("redact"))
    redaction = await analyzer.redact_input(["Draft a note to Maria Gonzalez."], pii)
    assert redaction.texts == ("Draft a note to <PERSON_1>.",)
    completion = "Dear <PERSON_1>, please mail ops@example.com. Regards, <PERSON_1>"
    for chunks in chunkings(completion):
        output = analyzer.output_filter(pii, redaction.pseudonyms)
        text, _ = await stream(output, chunks)
        assert text == "Dear Maria Gonzalez, please mail <EMAIL_ADDRESS>. Regards, Maria Gonzalez"
        assert (
            output.redacted_text
            == "Dear <PERSON_1>, please mail <EMAIL_ADDRESS>. Regards, <PERSON_1>"
        )
        assert output.entity_counts == {"EMAIL_ADDRESS": 1}


async def test_new_values_in_the_output_get_new_pseudonyms(analyzer: PiiAnalyzer) -> None:
    pii = policy(EMAIL_ADDRESS=rule("pseudonymize"))
    redaction = await analyzer.redact_input(["Reply to jane@example.com"], pii)
    output = analyzer.output_filter(pii, redaction.pseudonyms)
    text, _ = await stream(output, list("Sent to <EMAIL_ADDRESS_1>, copy bob@example.org."))
    assert text == "Sent to jane@example.com, copy <EMAIL_ADDRESS_2>."
    assert output.redacted_text == "Sent to <EMAIL_ADDRESS_1>, copy <EMAIL_ADDRESS_2>."


async def test_placeholders_the_request_never_made_stay_as_they_are(
    analyzer: PiiAnalyzer,
) -> None:
    output = analyzer.output_filter(policy(), PseudonymTable())
    text, _ = await stream(output, list("Hello <PERSON_7>!"))
    assert text == "Hello <PERSON_7>!"


@pytest.mark.parametrize(
    ("direction", "redacted"), [("output", True), ("both", True), ("input", False)]
)
async def test_only_output_and_both_rules_apply_to_completions(
    analyzer: PiiAnalyzer, direction: str, redacted: bool
) -> None:
    pii = policy(EMAIL_ADDRESS=rule("redact", direction))  # type: ignore[arg-type]
    output = analyzer.output_filter(pii, PseudonymTable())
    text, _ = await stream(output, ["mail jane@example.com today"])
    assert ("jane@example.com" not in text) is redacted


async def test_block_on_output_redacts(analyzer: PiiAnalyzer) -> None:
    output = analyzer.output_filter(policy(CREDIT_CARD=rule("block")), PseudonymTable())
    text, _ = await stream(output, ["card 4111 1111 1111 1111 used"])
    assert text == "card <CREDIT_CARD> used"


async def test_policy_types_stream_safely(analyzer: PiiAnalyzer) -> None:
    pii: PiiPolicy = policy(recognizers=employee_ids("employee"), EMPLOYEE_ID=rule("redact"))
    output = analyzer.output_filter(pii, PseudonymTable())
    text, sent = await stream(output, list("the employee EMP-123456 left"))
    assert text == "the employee <EMPLOYEE_ID> left"
    assert not any("EMP-" in piece or "123" in piece for piece in sent)


async def test_a_finished_filter_takes_no_more_text(analyzer: PiiAnalyzer) -> None:
    output = analyzer.output_filter(OUTPUT_POLICY, PseudonymTable())
    assert await output.feed("done") == ""
    assert await output.finish() == "done"
    assert await output.finish() == ""
    with pytest.raises(RuntimeError):
        await output.feed("more")


MIXED_POLICY = policy(
    EMAIL_ADDRESS=rule("redact"),
    PHONE_NUMBER=rule("redact", threshold=0.4),
    CREDIT_CARD=rule("redact"),
    IBAN_CODE=rule("redact"),
    CN_MOBILE=rule("redact"),
    CN_RESIDENT_ID=rule("redact"),
)
MIXED_VALUES = [
    "jane.doe@example.com",
    "212-555-0123",
    "6225880000000000002",
    "BE68539007547034",
    "138 1234 5678",
    "11010519491231002X",
]
FILLERS = ["Sure", "the value is", "and then", "ok.", "please note:", "(see above)", "\n", "thanks"]


@pytest.mark.parametrize("seed", range(12))
async def test_random_texts_and_cuts_never_leak_a_value(analyzer: PiiAnalyzer, seed: int) -> None:
    chooser = random.Random(seed)
    words = [chooser.choice(FILLERS) for _ in range(8)] + list(MIXED_VALUES)
    chooser.shuffle(words)
    text = " ".join(words)
    chunks, position = [], 0
    while position < len(text):
        size = chooser.choice([1, 1, 2, 3, 5, 8])
        chunks.append(text[position : position + size])
        position += size
    output = analyzer.output_filter(MIXED_POLICY, PseudonymTable())
    streamed, _ = await stream(output, chunks)
    whole = analyzer.output_filter(MIXED_POLICY, PseudonymTable())
    at_once, _ = await stream(whole, [text])
    for value in MIXED_VALUES:
        assert value not in streamed
    assert streamed == at_once
