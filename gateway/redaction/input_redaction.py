"""Apply a policy's input rules to the pieces found in a conversation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.redaction.conversation import EntityPiece
from gateway.redaction.errors import PiiBlockedError
from gateway.redaction.findings import Covered, cover_overlaps
from gateway.redaction.plan import DetectionPlan
from gateway.redaction.pseudonyms import PseudonymTable
from gateway.redaction.replace import replace_spans


@dataclass(frozen=True, slots=True)
class InputRedaction:
    """The messages as the engine may see them, and what was taken out."""

    texts: tuple[str, ...]
    """One text per message, in order: normalized, with redactions and pseudonyms."""
    entity_counts: Mapping[str, int]
    """Entity type → how many were redacted or pseudonymized. Types only, never values."""
    pseudonyms: PseudonymTable
    """Placeholder → original, for restoring the response; this request only, memory only."""


def redact_messages(
    texts: Sequence[str], pieces: Sequence[EntityPiece], plan: DetectionPlan
) -> InputRedaction:
    """Refuse (PiiBlockedError) if a blocked type is present; otherwise replace every find."""
    blocked = {piece.entity_type for piece in pieces if plan.action(piece.entity_type) == "block"}
    if blocked:
        raise PiiBlockedError(blocked, _count(pieces))
    pseudonyms = PseudonymTable()
    redacted: list[str] = []
    applied: list[EntityPiece] = []
    for index, text in enumerate(texts):
        covered = cover_overlaps(piece for piece in pieces if piece.message == index)
        replacements = [
            (run.start, run.end, _replacement(run, text, plan, pseudonyms)) for run in covered
        ]
        redacted.append(replace_spans(text, replacements))
        applied += [run.best for run in covered]
    return InputRedaction(tuple(redacted), _count(applied), pseudonyms)


def _replacement(
    run: Covered[EntityPiece], text: str, plan: DetectionPlan, pseudonyms: PseudonymTable
) -> str:
    entity_type = run.best.entity_type
    if plan.action(entity_type) != "pseudonymize":
        return f"<{entity_type}>"
    exact = (run.start, run.end) == (run.best.start, run.best.end)
    value = run.best.value if exact else text[run.start : run.end]
    return pseudonyms.placeholder_for(entity_type, value)


def _count(pieces: Iterable[EntityPiece]) -> dict[str, int]:
    """Entities by type, each split entity once."""
    entities = {piece.entity_id: piece.entity_type for piece in pieces}
    return dict(sorted(Counter(entities.values()).items()))
