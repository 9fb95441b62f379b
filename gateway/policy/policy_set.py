"""The resolved policies of every department, as one immutable value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gateway.policy.schema import Policy

DEFAULT_POLICY: Final = "default"
"""The policy (``default.yaml``) of every department without a file of its own."""


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Department → resolved policy. Built whole by the loader and swapped whole on reload."""

    folder: Path
    policies: Mapping[str, Policy]
    """Keyed by file stem; always holds ``default``."""

    def policy_for(self, department: str) -> Policy:
        """The department's own policy, else the default one (names match case-insensitively)."""
        own = self.policies.get(department.lower())
        return own if own is not None else self.policies[DEFAULT_POLICY]

    @property
    def departments(self) -> tuple[str, ...]:
        """Departments with a policy file of their own, in name order (``default`` included)."""
        return tuple(sorted(self.policies))
