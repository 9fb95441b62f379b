"""Fail closed: when screening cannot run nothing goes on, and the refusal names no value."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from gateway.errors import ConfigurationError, ServiceUnavailableError
from gateway.policy.schema import PiiPolicy
from gateway.redaction import PiiAnalyzer, PiiAnalyzerUnavailableError, PseudonymTable
from gateway.redaction.findings import Finding
from gateway.redaction.plan import DetectionPlan, Direction
from gateway.redaction.presidio_detector import PresidioDetector
from tests.unit.redaction.policies import policy, rule

pytestmark = pytest.mark.anyio

SECRET = "jane.doe@example.com"


class BrokenDetector:
    """Plans like the real one, then fails the way a crashing recognizer would."""

    def __init__(self, real: PresidioDetector) -> None:
        self._real = real

    def plan(self, pii: PiiPolicy, direction: Direction) -> DetectionPlan:
        return self._real.plan(pii, direction)

    def find(self, text: str, plan: DetectionPlan, *, use_ner: bool = True) -> list[Finding]:
        raise RuntimeError(f"recognizer crashed on {text!r}")  # the text holds the value


async def test_a_failing_analysis_refuses_the_request_with_503(detector: PresidioDetector) -> None:
    broken = PiiAnalyzer(BrokenDetector(detector))
    with capture_logs() as logs, pytest.raises(PiiAnalyzerUnavailableError) as refused:
        await broken.redact_input([f"mail {SECRET}"], policy(EMAIL_ADDRESS=rule("redact")))
    error = refused.value
    assert isinstance(error, ServiceUnavailableError)
    assert (error.status_code, error.code) == (503, "pii_analyzer_unavailable")
    assert error.__cause__ is None  # the crash (whose message held the value) is not chained
    assert error.__suppress_context__
    assert SECRET not in str(error.to_body())
    assert logs == [
        {
            "event": "pii_analysis_failed",
            "stage": "input",
            "error_type": "RuntimeError",
            "log_level": "error",
        }
    ]


async def test_a_failing_analysis_stops_a_stream(detector: PresidioDetector) -> None:
    broken = PiiAnalyzer(BrokenDetector(detector))
    output = broken.output_filter(policy(EMAIL_ADDRESS=rule("redact")), PseudonymTable())
    with capture_logs() as logs, pytest.raises(PiiAnalyzerUnavailableError):
        await output.feed(f"Write to {SECRET} today, then call back later")
    assert SECRET not in repr(logs)


async def test_a_policy_naming_a_type_nothing_finds_is_refused_with_503(
    analyzer: PiiAnalyzer,
) -> None:
    with pytest.raises(PiiAnalyzerUnavailableError):
        await analyzer.redact_input(["hello"], policy(NO_SUCH_ENTITY=rule("redact")))
    with pytest.raises(PiiAnalyzerUnavailableError):
        analyzer.output_filter(policy(NO_SUCH_ENTITY=rule("redact")), PseudonymTable())


def test_a_missing_model_is_a_start_up_error_not_a_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import spacy.cli

    def no_downloads(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to download a model")

    monkeypatch.setattr(spacy.cli, "download", no_downloads)
    with pytest.raises(ConfigurationError, match="ENCLAVE_PII_NLP_MODEL"):
        PiiAnalyzer.build("en_core_web_sm")
    with pytest.raises(ConfigurationError, match="neither an installed"):
        PiiAnalyzer.build("/nonexistent/model/folder")
