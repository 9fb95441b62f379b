"""Entry point of the ``enclave`` command: one sub-command module per concern.

Exit codes: 0 success; 1 a refusal (not found, conflict, bad input), printed as one
``enclave: ...`` line on stderr; 2 a usage or configuration error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, Any

import click

from gateway.cli import audit, certs, db, keys, model, policy, serve, tenants, tokens
from gateway.errors import ConfigurationError, GatewayError

EXIT_REFUSED = 1
EXIT_CONFIGURATION = 2


class CommandRefused(click.ClickException):
    """A refusal the admin can act on: shown as one ``enclave: ...`` line."""

    exit_code = EXIT_REFUSED

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"enclave: {self.format_message()}", file=file, err=file is None)


class ConfigurationFailed(CommandRefused):
    exit_code = EXIT_CONFIGURATION


class EnclaveGroup(click.Group):
    """The root group: turns the gateway's errors into exit codes and one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            raise ConfigurationFailed(str(exc)) from exc
        except GatewayError as exc:
            raise CommandRefused(exc.message) from exc


@click.group(cls=EnclaveGroup, context_settings={"help_option_names": ["-h", "--help"]})
def enclave() -> None:
    """Enclave gateway administration."""


for command in (
    serve.serve_command,
    certs.certs_group,
    model.model_group,
    db.db_group,
    tenants.tenants_group,
    tokens.tokens_group,
    keys.keys_group,
    policy.policy_group,
    audit.audit_group,
):
    enclave.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (``argv`` defaults to ``sys.argv[1:]``)."""
    try:
        enclave.main(args=None if argv is None else list(argv), prog_name="enclave")
    except SystemExit as exit_:
        return _exit_code(exit_.code)
    return 0


def _exit_code(code: str | int | None) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
