"""Every policy in ``policies/`` can be screened, both ways, with what the analyzer knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.policy.loader import load_policy_set
from gateway.redaction import PiiAnalyzer, PiiBlockedError, PseudonymTable

pytestmark = pytest.mark.anyio

POLICIES = load_policy_set(Path(__file__).parents[3] / "policies").policies
PROMPT = (
    "I am Maria Gonzalez (EMP-123456), mobile 13812345678, mail maria@example.com, server 10.1.2.3."
)


SCREENING = sorted(
    name
    for name, policy in POLICIES.items()
    if any(rule.action != "allow" for rule in policy.pii.entities.values())
)


def test_only_the_research_policy_screens_nothing() -> None:
    assert sorted(set(POLICIES) - set(SCREENING)) == ["research"]


@pytest.mark.parametrize("name", SCREENING)
async def test_a_shipped_policy_screens_prompts_and_completions(
    analyzer: PiiAnalyzer, name: str
) -> None:
    pii = POLICIES[name].pii
    try:
        redaction = await analyzer.redact_input(["You are helpful.", PROMPT], pii)
    except PiiBlockedError:
        return  # a policy may block one of the sample's types; refusing is screening too
    assert "13812345678" not in redaction.texts[1]
    assert "maria@example.com" not in redaction.texts[1]
    output = analyzer.output_filter(pii, redaction.pseudonyms)
    completion = await output.feed("Reply to maria@example.com today.") + await output.finish()
    assert "maria@example.com" not in completion


async def test_the_default_policy_leaves_names_and_redacts_contacts(
    analyzer: PiiAnalyzer,
) -> None:
    redaction = await analyzer.redact_input([PROMPT], POLICIES["default"].pii)
    assert redaction.texts == (
        "I am Maria Gonzalez (EMP-123456), mobile <CN_MOBILE>, mail <EMAIL_ADDRESS>, "
        "server <IP_ADDRESS>.",
    )
    assert isinstance(redaction.pseudonyms, PseudonymTable)
