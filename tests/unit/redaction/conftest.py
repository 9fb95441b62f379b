"""One PII analyzer for the whole session: loading spaCy takes seconds."""

from __future__ import annotations

import pytest
from presidio_analyzer import AnalyzerEngine

from gateway.redaction import PiiAnalyzer
from gateway.redaction.presidio_detector import PresidioDetector


@pytest.fixture(scope="session")
def analyzer() -> PiiAnalyzer:
    return PiiAnalyzer.build()


@pytest.fixture(scope="session")
def detector(analyzer: PiiAnalyzer) -> PresidioDetector:
    detector = analyzer.detector
    assert isinstance(detector, PresidioDetector)
    return detector


@pytest.fixture(scope="session")
def presidio_defaults(detector: PresidioDetector) -> AnalyzerEngine:
    """Presidio exactly as it ships (its own recognizers only), on the same spaCy model."""
    return AnalyzerEngine(nlp_engine=detector.presidio.nlp_engine)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
