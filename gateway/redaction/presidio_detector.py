"""The production ``Detector``: the gateway's own rules first, Presidio for the rest.

E-mail, phone, card, IBAN, SSN, IP, Chinese mobile and resident ID are found by the
gateway's rules alone (``gateway/redaction/rules``), which also add Chinese names and
addresses and US street addresses. Presidio runs only for what is left: names, places,
dates, nationalities through spaCy's NER (cut down to NER, and run only when the text has
something it could find), the country-specific recognizers and a policy's own patterns.

Importing this module imports Presidio and spaCy: ``PiiAnalyzer.build`` does it after
``prepare_offline_environment()``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import msgspec
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer import predefined_recognizers as presidio_recognizers

from gateway.errors import ConfigurationError
from gateway.policy.entities import KNOWN_ENTITIES
from gateway.policy.schema import EntityRule, PiiPolicy
from gateway.redaction.cache import BoundedCache
from gateway.redaction.false_positives import drop_false_positives
from gateway.redaction.findings import Finding
from gateway.redaction.nlp_engines import LANGUAGE, TokenizerOnlyNlpEngine, load_spacy_engine
from gateway.redaction.plan import DetectionPlan, Direction, rules_for, thresholds_for
from gateway.redaction.recognizers import policy_recognizers
from gateway.redaction.rules import PATTERN_ENTITIES, RuleSet, default_rules

PLAN_CACHE_SIZE = 256
"""Plans kept (one per policy content and direction); policies hot-reload, so it is bounded."""

_COUNTRY_RECOGNIZERS = (
    "UkNinoRecognizer", "EsNifRecognizer", "EsNieRecognizer", "ItFiscalCodeRecognizer",
    "ItDriverLicenseRecognizer", "ItVatCodeRecognizer", "ItPassportRecognizer",
    "ItIdentityCardRecognizer", "PlPeselRecognizer", "SgFinRecognizer", "SgUenRecognizer",
    "AuAbnRecognizer", "AuAcnRecognizer", "AuTfnRecognizer", "AuMedicareRecognizer",
    "InPanRecognizer", "InAadhaarRecognizer", "InVehicleRegistrationRecognizer",
    "InVoterRecognizer", "InPassportRecognizer", "FiPersonalIdentityCodeRecognizer",
)  # fmt: skip
"""Presidio recognizers a policy may name that Presidio does not load for English itself."""

_NER_RECOGNIZER = "SpacyRecognizer"
_NAMED_ONLY = frozenset({"PERSON", "LOCATION", "ORGANIZATION"})
"""NER types written with a capital letter in English: without one, spaCy is not run."""
_CAPITAL = re.compile(r"[A-Z]")
_LETTER = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NAME = re.compile(r"[^\W\d_]+(?:[\s.'\u2019-]+[^\W\d_]+)*\.?")
"""Letters, with blanks, dots, apostrophes and hyphens between them (``Richard M. Nixon``)."""


class UnsupportedEntityError(LookupError):
    """A policy names an entity type nothing can find (the analysis fails closed)."""


class PresidioDetector:
    """The gateway's rules, Presidio's analyzer with NER, its NER-free twin, plans per policy."""

    def __init__(
        self, analyzer: AnalyzerEngine, tokens_only: TokenizerOnlyNlpEngine, rules: RuleSet
    ) -> None:
        self._analyzer = analyzer
        self._tokens_only = tokens_only
        self._rules = rules
        self._supported = frozenset(analyzer.get_supported_entities(LANGUAGE)) | rules.entities
        self._ner_entities = _entities_from_ner(analyzer)
        self._ner_only = self._ner_entities - _entities_from_patterns(analyzer)
        self._plans: BoundedCache[tuple[Direction, bytes], DetectionPlan] = BoundedCache(
            PLAN_CACHE_SIZE
        )

    @property
    def presidio(self) -> AnalyzerEngine:
        """The underlying Presidio engine (for diagnostics and comparisons)."""
        return self._analyzer

    @property
    def supported_entities(self) -> frozenset[str]:
        return self._supported

    @property
    def ner_entities(self) -> frozenset[str]:
        """Types the statistical model finds (names, places...)."""
        return self._ner_entities

    def plan(self, pii: PiiPolicy, direction: Direction) -> DetectionPlan:
        key = (direction, msgspec.json.encode(pii))
        return self._plans.get_or_build(key, lambda: self._build_plan(pii, direction))

    def _build_plan(self, pii: PiiPolicy, direction: Direction) -> DetectionPlan:
        rules = rules_for(pii, direction)
        definitions = {e: d for e, d in pii.recognizers.items() if e in rules}
        unsupported = sorted(set(rules) - self._supported - set(definitions))
        if unsupported:
            raise UnsupportedEntityError(f"no recognizer for {', '.join(unsupported)}")
        return DetectionPlan(
            rules=rules,
            thresholds=thresholds_for(pii, rules),
            needs_ner=bool(self._ner_entities & set(rules)),
            custom_recognizers=policy_recognizers(definitions),
            rules_only=set(rules) <= PATTERN_ENTITIES and not definitions,
        )

    def find(self, text: str, plan: DetectionPlan, *, use_ner: bool = True) -> list[Finding]:
        findings = self.recognize(text, plan, use_ner=use_ner)
        return drop_false_positives(text, findings, keep_types=plan.custom_entities)

    def recognize(self, text: str, plan: DetectionPlan, *, use_ner: bool = True) -> list[Finding]:
        """What the rules and Presidio find, above the plan's thresholds, before false-positive
        rules."""
        if not plan.rules or not text:
            return []
        findings = self._rules.find(text, plan.entities)
        for_presidio = [entity for entity in plan.entities if entity not in PATTERN_ENTITIES]
        if for_presidio:
            findings += self._recognize_with_presidio(text, plan, for_presidio, use_ner=use_ner)
        return [
            finding
            for finding in findings
            if finding.entity_type in plan.rules
            and finding.score >= plan.thresholds[finding.entity_type]
        ]

    def _recognize_with_presidio(
        self, text: str, plan: DetectionPlan, entities: list[str], *, use_ner: bool
    ) -> list[Finding]:
        run_ner = plan.needs_ner and use_ner and _could_hold_named_entities(text, entities)
        if not run_ner and not plan.custom_recognizers and set(entities) <= self._ner_only:
            return []  # only NER could find these, and it has nothing to read
        nlp = self._analyzer.nlp_engine if run_ner else self._tokens_only
        results = self._analyzer.analyze(
            text,
            language=LANGUAGE,
            entities=entities,
            score_threshold=plan.lowest_threshold,
            ad_hoc_recognizers=list(plan.custom_recognizers) or None,
            nlp_artifacts=nlp.process_text(text, LANGUAGE),
        )
        return [
            Finding(result.entity_type, result.start, result.end, result.score)
            for result in results
            if not _misread_by_ner(text, result)
        ]


def _could_hold_named_entities(text: str, entities: Sequence[str]) -> bool:
    """Whether English NER could find anything: a capital for names, a letter for dates."""
    needed = _CAPITAL if set(entities) <= _NAMED_ONLY | PATTERN_ENTITIES else _LETTER
    return needed.search(text) is not None


def _misread_by_ner(text: str, result: RecognizerResult) -> bool:
    """An English-model entity that cannot be one: in Chinese text (which the English model
    cannot read; the rules find Chinese names and addresses), without a Latin letter, or a
    "name" with digits or symbols (``JIRA-9827182``, ``info@presidio``, ``Q3 Planning``)."""
    metadata = result.recognition_metadata or {}
    if metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY) != _NER_RECOGNIZER:
        return False
    found = text[result.start : result.end]
    if _HAN.search(found) or not _LETTER.search(found):
        return True
    return result.entity_type == "PERSON" and _NAME.fullmatch(found) is None


def build_presidio_detector(nlp_model: str) -> PresidioDetector:
    """Load the model and every recognizer; raises ConfigurationError when something is missing."""
    _keep_values_out_of_presidio_logs()
    nlp_engine = load_spacy_engine(nlp_model)
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=nlp_engine)
    for recognizer in _country_recognizers():
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(
        registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE]
    )
    detector = PresidioDetector(
        analyzer, TokenizerOnlyNlpEngine(nlp_engine), RuleSet(default_rules())
    )
    missing = sorted(KNOWN_ENTITIES - detector.supported_entities)
    if missing:
        raise ConfigurationError(f"PII analyzer cannot find entity types {', '.join(missing)}")
    _warm_up(detector)
    return detector


def _country_recognizers() -> list[EntityRecognizer]:
    recognizers: list[EntityRecognizer] = []
    for name in _COUNTRY_RECOGNIZERS:
        recognizer_class = getattr(presidio_recognizers, name)
        recognizers.append(recognizer_class(supported_language=LANGUAGE))
    return recognizers


def _entities_from_ner(analyzer: AnalyzerEngine) -> frozenset[str]:
    """Presidio types the spaCy model's NER labels map to (PERSON, LOCATION, DATE_TIME...)."""
    nlp_engine = analyzer.nlp_engine
    configuration = nlp_engine.ner_model_configuration  # type: ignore[attr-defined]
    labels = nlp_engine.get_nlp(LANGUAGE).get_pipe("ner").labels  # type: ignore[attr-defined]
    mapping = configuration.model_to_presidio_entity_mapping
    ignored = set(configuration.labels_to_ignore)
    return frozenset(mapping[label] for label in labels if label in mapping) - ignored


def _entities_from_patterns(analyzer: AnalyzerEngine) -> frozenset[str]:
    """Types some Presidio recognizer other than NER finds (DATE_TIME has a pattern too)."""
    return frozenset(
        entity
        for recognizer in analyzer.registry.get_recognizers(LANGUAGE, all_fields=True)
        if not isinstance(recognizer, presidio_recognizers.SpacyRecognizer)
        for entity in recognizer.supported_entities
    )


def _warm_up(detector: PresidioDetector) -> None:
    """Run every recognizer once, so lazy loading (suffix list, phone metadata) is not paid
    by the first request, and a broken set-up fails at start-up instead."""
    every_type = {entity: EntityRule(action="redact") for entity in detector.supported_entities}
    plan = detector.plan(PiiPolicy(score_threshold=0.5, entities=every_type), "input")
    detector.find(
        "Mail Jane Doe at jane.doe@example.com or call +1 212-555-0123 from 10.0.0.1.", plan
    )


class _WithoutArguments(logging.Filter):
    """Drop a record's arguments: Presidio logs some matched text (IBAN candidates) there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = f"{record.msg} [arguments withheld]"
            record.args = None
        return True


def _keep_values_out_of_presidio_logs() -> None:
    logger = logging.getLogger("presidio-analyzer")
    if not any(isinstance(existing, _WithoutArguments) for existing in logger.filters):
        logger.addFilter(_WithoutArguments())
