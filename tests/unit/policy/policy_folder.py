"""A policy folder in a temporary directory, with a complete ``default.yaml`` to extend."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.policy.loader import load_policy_set
from gateway.policy.policy_set import PolicySet
from gateway.policy.problems import PolicyError

DEFAULT_YAML = """\
description: test baseline
models: ["*"]
limits:
  max_tokens: 1000
  max_prompt_chars: 5000
  max_prompt_tokens: 2000
  max_messages: 10
  max_n: 2
  allowed_parameters: [max_tokens, temperature, n, stream]
rate_limits:
  per_tenant:
    requests_per_minute: 60
    tokens_per_minute: 10000
    concurrent_requests: 4
    burst: 10
  per_department:
    requests_per_minute: 600
    tokens_per_minute: 100000
    concurrent_requests: 16
    burst: 50
pii:
  score_threshold: 0.5
  entities:
    EMAIL_ADDRESS: {action: redact}
    PERSON: {action: allow, direction: input}
audit:
  content: redacted
  retention_days: 30
"""


@dataclass
class PolicyFolder:
    path: Path

    def write(self, name: str, text: str) -> Path:
        """Write ``<name>.yaml`` (dedented) and return its path."""
        file = self.path / f"{name}.yaml"
        file.write_text(textwrap.dedent(text), encoding="utf-8")
        return file

    def line_of(self, name: str, needle: str) -> int:
        """1-based line of the first line of ``<name>.yaml`` containing ``needle``."""
        lines = (self.path / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
        return next(number for number, line in enumerate(lines, 1) if needle in line)

    def file(self, name: str) -> str:
        return str(self.path / f"{name}.yaml")

    def load(self) -> PolicySet:
        return load_policy_set(self.path)

    def problems(self) -> list[str]:
        """Every problem the loader reports, as printed (``file:line: field: problem``)."""
        with pytest.raises(PolicyError) as caught:
            load_policy_set(self.path)
        return [str(problem) for problem in caught.value.problems]


def make_folder(root: Path) -> PolicyFolder:
    folder = PolicyFolder(root / "policies")
    folder.path.mkdir()
    folder.write("default", DEFAULT_YAML)
    return folder
