"""``enclave certs``: create and inspect the development CA and server certificate."""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

from gateway.errors import ConfigurationError
from gateway.settings import load_settings
from gateway.tls.certs import CertPaths, describe, init_dev_certs


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``certs init`` and ``certs show`` under ``subparsers``."""
    certs = subparsers.add_parser("certs", help="development TLS certificates")
    actions = certs.add_subparsers(dest="certs_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="create a dev CA and a localhost server certificate")
    _add_dir_option(init)
    init.add_argument("--force", action="store_true", help="replace existing files")
    init.set_defaults(handler=run_init)
    show = actions.add_parser("show", help="describe the certificates (never the keys)")
    _add_dir_option(show)
    show.set_defaults(handler=run_show)


def _add_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="certificate folder (default: ENCLAVE_CERTS_DIR, else ./certs)",
    )


def run_init(args: argparse.Namespace) -> int:
    """Create the certificates (or keep existing ones) and print where they are."""
    paths = init_dev_certs(_certs_dir(args), force=bool(args.force))
    if paths.kept:
        print(f"Kept existing certificates in {paths.ca_cert.parent} (--force replaces them).")
    else:
        print(f"Created development certificates in {paths.ca_cert.parent}.")
    _print_paths(paths)
    _print_certs(paths)
    print(
        f"Clients trust the gateway by trusting {paths.ca_cert}; keep the *-key.pem files secret."
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Describe the CA and server certificates and check the key files' permissions."""
    paths = CertPaths.in_dir(_certs_dir(args))
    _print_paths(paths)
    _print_certs(paths)
    return 0


def _certs_dir(args: argparse.Namespace) -> Path:
    chosen: Path | None = args.dir
    return chosen if chosen is not None else load_settings().certs_dir


def _print_paths(paths: CertPaths) -> None:
    ca_key_mode, server_key_mode = _key_mode(paths.ca_key), _key_mode(paths.server_key)
    print(f"  CA certificate:     {paths.ca_cert}")
    print(f"  CA private key:     {paths.ca_key}  ({ca_key_mode})")
    print(f"  server certificate: {paths.server_cert}")
    print(f"  server private key: {paths.server_key}  ({server_key_mode})")


def _print_certs(paths: CertPaths) -> None:
    for title, path in (
        ("CA certificate", paths.ca_cert),
        ("server certificate", paths.server_cert),
    ):
        print(f"{title}:")
        print(_indent(describe(path)))


def _key_mode(path: Path) -> str:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror}; run `enclave certs init`") from exc
    warning = "" if mode & 0o077 == 0 else ", WARNING: readable by others, expected 0600"
    return f"mode {mode:04o}{warning}"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
