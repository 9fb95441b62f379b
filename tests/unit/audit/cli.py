"""The ``enclave`` CLI with the ``audit`` group, run in-process like ``tests.support.cli``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import click
from click.testing import CliRunner, Result

from gateway.cli.audit import audit_group
from gateway.cli.main import EnclaveGroup, enclave
from tests.support.cli import EnclaveCli


def enclave_with_audit() -> click.Group:
    """The real root group, with ``audit`` added if ``gateway.cli.main`` does not add it yet."""
    if "audit" in enclave.commands:
        return enclave
    root = EnclaveGroup(name="enclave", commands=dict(enclave.commands))
    root.add_command(audit_group)
    return root


@dataclass
class AuditCli(EnclaveCli):
    def run(self, *args: str, input: str | None = None) -> Result:
        hidden: Mapping[str, str | None] = {
            name: None for name in os.environ if name.startswith("ENCLAVE_")
        }
        return CliRunner().invoke(
            enclave_with_audit(),
            list(args),
            input=input,
            env={**hidden, **self.env},
            catch_exceptions=False,
        )
