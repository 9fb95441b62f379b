"""Which policies are screened on the event loop: only the gateway's regex rules, short texts."""

from __future__ import annotations

from gateway.redaction.plan import INLINE_MAX_CHARS
from gateway.redaction.presidio_detector import PresidioDetector
from tests.unit.redaction.policies import employee_ids, policy, rule


def test_regex_only_policies_screen_short_text_inline(detector: PresidioDetector) -> None:
    plan = detector.plan(policy(EMAIL_ADDRESS=rule("redact"), CN_MOBILE=rule("redact")), "output")
    assert plan.screens_inline(INLINE_MAX_CHARS)
    assert not plan.screens_inline(INLINE_MAX_CHARS + 1), "long text goes to a worker thread"


def test_presidio_and_spacy_always_run_in_a_worker_thread(detector: PresidioDetector) -> None:
    names = detector.plan(policy(PERSON=rule("redact")), "input")
    own = detector.plan(
        policy(recognizers=employee_ids("badge"), EMPLOYEE_ID=rule("redact")), "input"
    )
    assert not names.screens_inline(10)
    assert not own.screens_inline(10)
