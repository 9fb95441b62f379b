"""Presidio as it ships, for side-by-side comparisons in ``bench/pii_*.py``.

A stock ``AnalyzerEngine``: Presidio's default recognizers and its spaCy NLP engine on
the same model package the gateway uses, with the model's whole pipeline (tagger,
parser, lemmatizer, NER), loaded separately from the gateway's own (which is cut down to
NER). Call after ``PiiAnalyzer.build`` (which keeps Presidio off the network).
"""

from __future__ import annotations

from typing import Any

from gateway.redaction import DEFAULT_NLP_MODEL


def stock_presidio(model: str = DEFAULT_NLP_MODEL) -> Any:
    """A fresh stock ``presidio_analyzer.AnalyzerEngine`` on ``model`` (seconds to load)."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": model}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine())
