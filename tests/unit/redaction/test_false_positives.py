"""Version strings and order numbers: what the recognizers report (before) and what is kept."""

from __future__ import annotations

import pytest

from gateway.redaction.findings import Finding
from gateway.redaction.presidio_detector import PresidioDetector
from tests.unit.redaction.policies import policy, rule

# Every type a cautious policy might list, with a threshold low enough to see weak guesses.
CAUTIOUS = policy(
    threshold=0.3,
    IP_ADDRESS=rule("redact"),
    PHONE_NUMBER=rule("redact"),
    ORGANIZATION=rule("redact"),
    US_DRIVER_LICENSE=rule("redact"),
    DATE_TIME=rule("redact"),
)

LOOK_ALIKES = [
    ("Upgrade to version v1.2.3 today.", "v1.2.3"),
    ("The appliance runs version 10.192.168.1 now.", "10.192.168.1"),
    ("Tag 2.4.1-rc1 and release 1.2.3.4 are out.", "1.2.3.4"),
]
NEVER_REPORTED = [
    ("Order ORD-2024-000123 has shipped.", "2024-000123"),  # Presidio: a phone number
    ("Package 3.10.192.168.1 is out.", "3.10.192.168"),  # Presidio: an IP address
    ("订单ORD-2024-000123已发货", "2024-000123"),
    ("构建v10.2.1在10.0.0.1.5上失败", "10.0.0.1"),
]


def texts(text: str, findings: list[Finding]) -> list[str]:
    return [text[f.start : f.end] for f in findings]


@pytest.mark.parametrize(("text", "look_alike"), LOOK_ALIKES)
def test_look_alikes_are_reported_before_and_dropped_after(
    detector: PresidioDetector, text: str, look_alike: str
) -> None:
    plan = detector.plan(CAUTIOUS, "input")
    before = texts(text, detector.recognize(text, plan))
    after = texts(text, detector.find(text, plan))
    assert any(look_alike in found for found in before), before
    assert not any(look_alike in found or found in look_alike for found in after), after


@pytest.mark.parametrize(("text", "look_alike"), NEVER_REPORTED)
def test_codes_and_dotted_runs_are_not_even_candidates(
    detector: PresidioDetector, text: str, look_alike: str
) -> None:
    found = texts(text, detector.recognize(text, detector.plan(CAUTIOUS, "input")))
    assert not any(look_alike in value or value in look_alike for value in found), found


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Connect to 192.168.1.1 over ssh.", "192.168.1.1"),
        ("My phone number is 212-555-0123.", "212-555-0123"),
        ("Card ORD-4111111111111111 is mine.", "4111111111111111"),  # a checksum wins
    ],
)
def test_real_values_near_such_rules_are_kept(
    detector: PresidioDetector, text: str, kept: str
) -> None:
    pii = policy(
        threshold=0.3,
        IP_ADDRESS=rule("redact"),
        PHONE_NUMBER=rule("redact"),
        CREDIT_CARD=rule("redact"),
    )
    assert kept in texts(text, detector.find(text, detector.plan(pii, "input")))
