"""Hardened ``ssl.SSLContext`` objects: TLS 1.2+ with forward-secret AEAD suites only."""

from __future__ import annotations

import ssl
from pathlib import Path

from gateway.errors import ConfigurationError

TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
"""OpenSSL cipher string for TLS 1.2: ECDHE key exchange, AEAD encryption (TLS 1.3 is always so)."""

_HINT = "create development certificates with `enclave certs init`"
_NO_RENEGOTIATION: int = getattr(ssl, "OP_NO_RENEGOTIATION", 0)


def server_ssl_context(
    certfile: Path, keyfile: Path, *, client_ca: Path | None = None
) -> ssl.SSLContext:
    """Server context for the HTTPS listener, loaded with ``certfile`` (chain) and ``keyfile``.

    With ``client_ca``, every client must present a certificate issued by it (mutual TLS):
    missing, expired, not-yet-valid, wrongly signed or non-client certificates end the
    handshake.
    """
    _require_readable(certfile, "TLS certificate")
    _require_readable(keyfile, "TLS private key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _harden(context)
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | _NO_RENEGOTIATION
    _load_chain(context, certfile, keyfile)
    if client_ca is not None:
        _require_client_certificates(context, client_ca)
    return context


def _require_client_certificates(context: ssl.SSLContext, client_ca: Path) -> None:
    _require_readable(client_ca, "client CA certificate")
    try:
        context.load_verify_locations(cafile=client_ca)
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"{client_ca}: not a usable client CA certificate ({exc.reason})"
        ) from exc
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_STRICT


def client_ssl_context(ca_file: Path) -> ssl.SSLContext:
    """Client context that trusts only ``ca_file`` and checks the server's name."""
    _require_readable(ca_file, "CA certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _harden(context)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    try:
        context.load_verify_locations(cafile=ca_file)
    except ssl.SSLError as exc:
        raise ConfigurationError(f"{ca_file}: not a usable CA certificate ({exc.reason})") from exc
    return context


def _harden(context: ssl.SSLContext) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION


def _require_readable(path: Path, what: str) -> None:
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ConfigurationError(f"{what} {path}: cannot read ({exc.strerror}); {_HINT}") from exc


def _load_chain(context: ssl.SSLContext, certfile: Path, keyfile: Path) -> None:
    try:
        context.load_cert_chain(certfile=certfile, keyfile=keyfile)
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"TLS certificate {certfile} and private key {keyfile} cannot be loaded together "
            f"({exc.reason}); check they are PEM and belong together, or {_HINT}"
        ) from exc
