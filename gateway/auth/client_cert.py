"""Mutual TLS: the verified client certificate names the tenant; no header ever can.

The certificate is read only from the ASGI ``tls`` extension, which Enclave's HTTPS
listener fills from the TLS connection after OpenSSL verified it against
``ENCLAVE_CLIENT_CA_FILE`` (gateway/tls/peer.py). How it combines with bearer tokens:

- mutual TLS off (no client CA): certificates play no part; the bearer token decides.
- mutual TLS on, no ``Authorization`` header: the certificate's tenant, which must exist
  and be active, with the ``app`` role; the department is Enclave's record of the tenant.
- mutual TLS on, with a token: the token is verified as always and must belong to the
  certificate's tenant (else 403 ``certificate_tenant_mismatch``); the token's roles apply.
- mutual TLS on but no verified certificate in the request (never the case behind
  Enclave's own listener, which ends such handshakes): 401.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final

from cryptography import x509

from gateway.auth.directory import IdentityDirectory
from gateway.auth.principal import APP_ROLE, Principal
from gateway.auth.verify import TokenVerifier
from gateway.errors import AuthenticationError, PermissionDeniedError
from gateway.tls.client_certs import TENANT_URI_PREFIX, ClientIdentity, client_identity
from gateway.tls.peer import TLS_EXTENSION

CERTIFICATE_ISSUER: Final = "client-certificate"
"""``Principal.issuer`` of callers identified by their client certificate alone."""
_INVALID: Final = "invalid_client_certificate"


class ConnectionAuthenticator:
    """Turns a request's connection and credentials into a Principal, failing closed."""

    def __init__(
        self, verifier: TokenVerifier, directory: IdentityDirectory, *, mutual_tls: bool
    ) -> None:
        self._verifier = verifier
        self._directory = directory
        self._mutual_tls = mutual_tls

    async def authenticate(self, scope: Mapping[str, Any], credentials: str | None) -> Principal:
        if not self._mutual_tls:
            return await self._verifier.authenticate(credentials)
        identity = verified_client_identity(scope)
        tenant = _single_tenant(identity)
        if credentials is None:
            return await self._certificate_principal(identity, tenant)
        principal = await self._verifier.authenticate(credentials)
        if principal.tenant != tenant:
            raise PermissionDeniedError(
                "the token belongs to another tenant than the client certificate",
                code="certificate_tenant_mismatch",
            )
        return principal

    async def _certificate_principal(self, identity: ClientIdentity, tenant: str) -> Principal:
        status = await self._directory.tenant_status(tenant)
        if status is None:
            raise AuthenticationError("the client certificate's tenant is not known", code=_INVALID)
        if not status.active:
            raise PermissionDeniedError("tenant is suspended", code="tenant_suspended")
        return Principal(
            tenant=status.name,
            department=status.department,
            subject=identity.common_name or f"sha256:{identity.fingerprint}",
            roles=frozenset({APP_ROLE}),
            token_id=None,
            issuer=CERTIFICATE_ISSUER,
        )


def verified_client_identity(scope: Mapping[str, Any]) -> ClientIdentity:
    """The identity in the scope's TLS extension; 401 unless a verified certificate is there."""
    extensions = scope.get("extensions") or {}
    tls = extensions.get(TLS_EXTENSION)
    if isinstance(tls, Mapping) and tls.get("client_cert_error") is None:
        chain = tls.get("client_cert_chain")
        if isinstance(chain, list | tuple) and chain and isinstance(chain[0], str):
            return _identity_of_pem(chain[0])
    raise AuthenticationError(
        "a client certificate is required", code="client_certificate_required"
    )


@functools.lru_cache(maxsize=256)
def _identity_of_pem(pem: str) -> ClientIdentity:
    try:
        return client_identity(x509.load_pem_x509_certificate(pem.encode("ascii")))
    except ValueError:
        raise AuthenticationError("the client certificate cannot be read", code=_INVALID) from None


def _single_tenant(identity: ClientIdentity) -> str:
    if len(identity.tenants) != 1:
        raise AuthenticationError(
            f"the client certificate must name exactly one tenant ({TENANT_URI_PREFIX}<name>)",
            code=_INVALID,
        )
    return identity.tenants[0]
