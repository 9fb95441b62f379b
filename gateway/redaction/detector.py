"""The seam between the redaction logic and the recognition engine (Presidio in production).

Everything in ``gateway.redaction`` except the Presidio modules talks to a ``Detector``,
so the logic runs, and is tested, without knowing how entities are recognized.
"""

from __future__ import annotations

from typing import Protocol

from gateway.policy.schema import PiiPolicy
from gateway.redaction.findings import Finding
from gateway.redaction.plan import DetectionPlan, Direction


class Detector(Protocol):
    def plan(self, pii: PiiPolicy, direction: Direction) -> DetectionPlan:
        """What ``pii`` looks for in ``direction`` (cached by policy content)."""
        ...

    def find(self, text: str, plan: DetectionPlan, *, use_ner: bool = True) -> list[Finding]:
        """Entities of the plan's types in ``text``, above their thresholds.

        Blocking and CPU-bound: call it from a worker thread. ``use_ner=False`` skips the
        statistical model even when the plan has types that need it (for short fragments).
        """
        ...
