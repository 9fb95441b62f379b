"""Run the ``enclave`` CLI in-process with click's CliRunner, against a chosen environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from click.testing import CliRunner, Result

from gateway.cli.main import enclave


@dataclass
class EnclaveCli:
    """The CLI with ``ENCLAVE_*`` taken only from ``env`` (the caller's own are hidden)."""

    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, input: str | None = None) -> Result:
        hidden: Mapping[str, str | None] = {
            name: None for name in os.environ if name.startswith("ENCLAVE_")
        }
        runner = CliRunner()
        return runner.invoke(
            enclave, list(args), input=input, env={**hidden, **self.env}, catch_exceptions=False
        )

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run and insist on exit code 0."""
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def refused(self, *args: str, exit_code: int = 1) -> str:
        """Run, insist on ``exit_code`` and a one-line ``enclave: ...`` message; return it."""
        result = self.run(*args)
        assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("enclave: ")
        return lines[0]
