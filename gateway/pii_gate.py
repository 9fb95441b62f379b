"""The PII steps of the request path: redact prompts, filter completions, count what was found."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from engine.protocol import GenerationStep
from gateway.errors import InvalidRequestError
from gateway.metrics.registry import GatewayMetrics
from gateway.policy.schema import PiiPolicy
from gateway.redaction.analyzer import PiiAnalyzer
from gateway.redaction.errors import PiiBlockedError
from gateway.redaction.input_redaction import InputRedaction
from gateway.redaction.pseudonyms import PseudonymTable
from gateway.redaction.stream import OutputFilter


class PiiGate:
    """Runs the department's PII rules on both sides of the engine."""

    def __init__(self, analyzer: PiiAnalyzer, metrics: GatewayMetrics) -> None:
        self._analyzer = analyzer
        self._metrics = metrics

    async def redact_prompt(self, texts: Sequence[str], pii: PiiPolicy) -> InputRedaction:
        """What the engine may see; 400 if a blocked type is present, 503 if analysis fails."""
        try:
            redaction = await self._analyzer.redact_input(texts, pii)
        except PiiBlockedError as blocked:
            self._count(blocked.entity_counts, pii, "input", blocked=set(blocked.entity_types))
            raise
        self._count(redaction.entity_counts, pii, "input")
        return redaction

    def output_filters(
        self, pii: PiiPolicy, pseudonyms: PseudonymTable, n: int
    ) -> list[OutputFilter]:
        """One stream filter per choice: output rules applied, pseudonyms restored."""
        return [self._analyzer.output_filter(pii, pseudonyms) for _ in range(n)]

    async def filter_step(
        self, step: GenerationStep, filters: Sequence[OutputFilter]
    ) -> GenerationStep:
        """The step with each choice's text passed through its filter (held back if unsure)."""
        deltas = []
        for delta in step.deltas:
            output = filters[delta.index]
            text = await output.feed(delta.text) if delta.text else ""
            if delta.finish_reason is not None:
                text += await output.finish()
            deltas.append(dataclasses.replace(delta, text=text))
        return dataclasses.replace(step, deltas=tuple(deltas))

    def count_output(self, filters: Sequence[OutputFilter], pii: PiiPolicy) -> dict[str, int]:
        totals: dict[str, int] = {}
        for output in filters:
            for entity, count in output.entity_counts.items():
                totals[entity] = totals.get(entity, 0) + count
        self._count(totals, pii, "output")
        return totals

    def _count(
        self,
        counts: Mapping[str, int],
        pii: PiiPolicy,
        direction: str,
        blocked: set[str] | None = None,
    ) -> None:
        for entity, count in counts.items():
            rule = pii.entities.get(entity)
            action = (
                "block" if blocked and entity in blocked else (rule.action if rule else "redact")
            )
            self._metrics.count_pii(entity, action, direction, count=count)


def refuse_logprobs_under_output_rules(pii: PiiPolicy) -> None:
    """Token logprobs carry raw token text, which output redaction cannot reach: refuse them."""
    for rule in pii.entities.values():
        if rule.action != "allow" and rule.direction in ("output", "both"):
            raise InvalidRequestError(
                "logprobs are not available where the department's policy redacts completions",
                param="logprobs",
                code="logprobs_unavailable_under_pii_policy",
            )
