"""``enclave certs``: create and inspect the development CA and server certificate."""

from __future__ import annotations

import stat
from pathlib import Path

import click

from gateway.errors import ConfigurationError
from gateway.settings import load_settings
from gateway.tls.certs import CertPaths, describe, init_dev_certs
from gateway.tls.client_certs import DEFAULT_DAYS, issue_client_cert

dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="certificate folder (default: ENCLAVE_CERTS_DIR, else ./certs)",
)


@click.group("certs")
def certs_group() -> None:
    """Development TLS certificates."""


@certs_group.command("init")
@dir_option
@click.option("--force", is_flag=True, help="replace existing files")
def init_command(directory: Path | None, force: bool) -> None:
    """Create a dev CA and a localhost server certificate."""
    paths = init_dev_certs(_certs_dir(directory), force=force)
    if paths.kept:
        click.echo(f"Kept existing certificates in {paths.ca_cert.parent} (--force replaces them).")
    else:
        click.echo(f"Created development certificates in {paths.ca_cert.parent}.")
    _print_paths(paths)
    _print_certs(paths)
    click.echo(
        f"Clients trust the gateway by trusting {paths.ca_cert}; keep the *-key.pem files secret."
    )


@certs_group.command("show")
@dir_option
def show_command(directory: Path | None) -> None:
    """Describe the certificates (never the keys)."""
    paths = CertPaths.in_dir(_certs_dir(directory))
    _print_paths(paths)
    _print_certs(paths)


@certs_group.command("client")
@dir_option
@click.option("--tenant", required=True, help="the tenant the certificate authenticates as")
@click.option("--name", default=None, help="common name and file name (default: the tenant)")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="folder for the certificate and key (default: <certs dir>/clients)",
)
@click.option("--days", type=click.IntRange(min=1), default=DEFAULT_DAYS, show_default=True)
@click.option("--force", is_flag=True, help="replace existing files")
def client_command(
    directory: Path | None,
    tenant: str,
    name: str | None,
    out_dir: Path | None,
    days: int,
    force: bool,
) -> None:
    """Issue a client certificate for mutual TLS, signed by the dev CA."""
    files = issue_client_cert(
        _certs_dir(directory), tenant, name=name, out_dir=out_dir, days=days, force=force
    )
    click.echo(f"Issued a client certificate for tenant {tenant}:")
    click.echo(f"  certificate: {files.cert}")
    click.echo(f"  private key: {files.key}  ({_key_mode(files.key)})")
    click.echo(_indent(describe(files.cert)))
    click.echo(
        "The gateway accepts it when ENCLAVE_CLIENT_CA_FILE names this CA's ca.pem; "
        "keep the key secret."
    )


def _certs_dir(directory: Path | None) -> Path:
    return directory if directory is not None else load_settings().certs_dir


def _print_paths(paths: CertPaths) -> None:
    ca_key_mode, server_key_mode = _key_mode(paths.ca_key), _key_mode(paths.server_key)
    click.echo(f"  CA certificate:     {paths.ca_cert}")
    click.echo(f"  CA private key:     {paths.ca_key}  ({ca_key_mode})")
    click.echo(f"  server certificate: {paths.server_cert}")
    click.echo(f"  server private key: {paths.server_key}  ({server_key_mode})")


def _print_certs(paths: CertPaths) -> None:
    for title, path in (
        ("CA certificate", paths.ca_cert),
        ("server certificate", paths.server_cert),
    ):
        click.echo(f"{title}:")
        click.echo(_indent(describe(path)))


def _key_mode(path: Path) -> str:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror}; run `enclave certs init`") from exc
    warning = "" if mode & 0o077 == 0 else ", WARNING: readable by others, expected 0600"
    return f"mode {mode:04o}{warning}"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
