"""Output redaction for completions, streamed or whole.

``feed`` takes the engine's deltas and returns what is safe to send now; the end of the
text waits (``holdback.py``) until no entity can straddle the cut. Released text is
analysed with its right-hand neighbours and with ``context_chars`` of earlier text as
context, redacted per the output rules, and only then are pseudonym placeholders the
engine echoed (``<PERSON_1>``) restored to the caller's originals. ``finish`` releases
the rest. A whole completion is ``await feed(text)`` then ``await finish()``.

On output, ``block`` redacts: the answer is already on its way and cannot become a 400.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio.to_thread
import structlog

from gateway.redaction.detector import Detector
from gateway.redaction.errors import PiiAnalyzerUnavailableError
from gateway.redaction.findings import Finding, cover_overlaps
from gateway.redaction.holdback import HoldBack
from gateway.redaction.plan import DetectionPlan
from gateway.redaction.pseudonyms import PLACEHOLDER, PseudonymTable
from gateway.redaction.replace import replace_spans

log = structlog.get_logger("enclave.redaction")


@dataclass(frozen=True, slots=True)
class StreamWindow:
    """How much of a streamed completion waits while it is screened."""

    hold_back_chars: int = 64
    """Characters always held when the policy looks for a type without a shape (names,
    places, dates, national IDs): about the longest such entity written in one go."""
    context_chars: int = 128
    """Released text analysed again as context (``my phone is`` before the number)."""
    release_every_chars: int = 16
    """After the first release, text goes out in steps of at least this many characters,
    so the analyzer runs about once per few tokens, not once per token. The first release
    goes as soon as anything is safe, to keep the time to first token short."""


@dataclass(frozen=True, slots=True)
class _Release:
    """One step's text for the caller, and the same text as the audit store may keep it."""

    caller: str
    audit: str


class OutputFilter:
    """Screens one completion (one choice). Not shared between requests or choices."""

    def __init__(
        self,
        detector: Detector,
        plan: DetectionPlan,
        pseudonyms: PseudonymTable,
        hold_back: HoldBack,
        window: StreamWindow,
    ) -> None:
        self._detector = detector
        self._plan = plan
        self._pseudonyms = pseudonyms
        self._tail = hold_back.scanner()
        self._offset = 0
        """Where the buffer (context + pending) starts in the whole completion."""
        self._window = window
        self._context = ""
        self._pending = ""
        self._released_any = False
        self._finished = False
        self._counts: Counter[str] = Counter()
        self._audit: list[str] = []

    @property
    def entity_counts(self) -> dict[str, int]:
        """Entity type → how many were redacted or pseudonymized in the completion so far."""
        return dict(sorted(self._counts.items()))

    @property
    def redacted_text(self) -> str:
        """The released completion with output PII redacted and placeholders left in place:
        what the audit store may keep (never the caller's restored originals)."""
        return "".join(self._audit)

    async def feed(self, delta: str) -> str:
        """Take the next delta; return the text that is safe to send now (maybe empty)."""
        if self._finished:
            raise RuntimeError("the completion was already finished")
        self._pending += delta
        buffer, released = self._context + self._pending, len(self._context)
        hold = self._tail.start(buffer, released, self._offset)
        step = self._window.release_every_chars if self._released_any else 1
        if hold - released < step:
            return ""
        return await self._release(buffer, released, hold, final=False)

    async def finish(self) -> str:
        """Release everything still held; the filter takes no more text afterwards."""
        if self._finished:
            return ""
        buffer, released = self._context + self._pending, len(self._context)
        text = await self._release(buffer, released, len(buffer), final=True)
        self._finished = True
        return text

    async def _release(self, buffer: str, released: int, limit: int, *, final: bool) -> str:
        findings = await self._find(buffer)
        placeholders = [
            match.span()
            for match in PLACEHOLDER.finditer(buffer, released)
            if match.group(0) in self._pseudonyms
        ]
        findings = [
            finding
            for finding in findings
            if finding.end > released
            and not any(finding.overlaps(start, end) for start, end in placeholders)
        ]
        spans = [(f.start, f.end) for f in findings] + placeholders
        cut = limit if final else _safe_cut(limit, spans)
        if cut <= released:
            return ""
        release = self._render(buffer, released, cut, findings, placeholders)
        self._context = buffer[:cut][-self._window.context_chars :]
        self._offset += cut - len(self._context)
        self._pending = buffer[cut:]
        self._released_any = True
        self._audit.append(release.audit)
        return release.caller

    async def _find(self, buffer: str) -> list[Finding]:
        if not self._plan.rules:
            return []
        find: Callable[[str, DetectionPlan], list[Finding]] = self._detector.find
        try:
            if self._plan.screens_inline(len(buffer)):
                return find(buffer, self._plan)
            return await anyio.to_thread.run_sync(find, buffer, self._plan)
        except Exception as exc:
            log.error("pii_analysis_failed", stage="output", error_type=type(exc).__name__)
            raise PiiAnalyzerUnavailableError() from None

    def _render(
        self,
        buffer: str,
        released: int,
        cut: int,
        findings: Sequence[Finding],
        placeholders: Sequence[tuple[int, int]],
    ) -> _Release:
        clipped = [
            Finding(f.entity_type, max(f.start, released), min(f.end, cut), f.score)
            for f in findings
            if f.start < cut
        ]
        redactions: list[tuple[int, int, str]] = []
        for run in cover_overlaps(clipped):
            value = buffer[run.start : run.end]
            redactions.append(
                (run.start - released, run.end - released, self._stand_in(run.best, value))
            )
            self._counts[run.best.entity_type] += 1
        restorations = [
            (start - released, end - released, self._pseudonyms.restore(buffer[start:end]))
            for start, end in placeholders
            if end <= cut
        ]
        segment = buffer[released:cut]
        return _Release(
            caller=replace_spans(segment, redactions + restorations),
            audit=replace_spans(segment, redactions),
        )

    def _stand_in(self, finding: Finding, value: str) -> str:
        if self._plan.action(finding.entity_type) == "pseudonymize":
            return self._pseudonyms.placeholder_for(finding.entity_type, value)
        return f"<{finding.entity_type}>"


def _safe_cut(cut: int, spans: Sequence[tuple[int, int]]) -> int:
    """``cut`` moved back until no span straddles it."""
    moved = True
    while moved:
        moved = False
        for start, end in spans:
            if start < cut < end:
                cut, moved = start, True
    return cut
