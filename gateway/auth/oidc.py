"""Tokens of trusted external OpenID Connect issuers, verified against their cached JWKS.

Keys are fetched lazily (never at import or start-up), cached, fetched again once older
than ``refresh_interval_seconds`` and, for a token whose ``kid`` is unknown, at most once
per ``min_refresh_interval_seconds``: concurrent misses share one fetch. Without any key
ever fetched the issuer fails closed (503); with cached keys a failed fetch is logged and
the cache kept.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
import structlog

from gateway.auth.claims import KID_PATTERN, roles_claim, string_claim, translate
from gateway.auth.directory import IdentityDirectory, TenantStatus
from gateway.auth.principal import Principal
from gateway.auth.trusted_issuers import IssuerConfig, read_trusted_issuers
from gateway.auth.verify import LEEWAY_SECONDS, REQUIRED_CLAIMS
from gateway.errors import (
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from gateway.tls.context import client_ssl_context

log = structlog.get_logger("enclave.auth.oidc")

MAX_JWKS_BYTES = 512 * 1024
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
KEY_ALGORITHMS: Mapping[tuple[str, str | None], frozenset[str]] = {
    ("RSA", None): RSA_ALGORITHMS,
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
}
"""Algorithms each public key type can verify; ``oct`` (shared secret) keys are absent."""

Clock = Callable[[], float]


class JwksUnavailable(Exception):
    """The key set could not be read or is not a JWKS (the reason is safe to log)."""


@dataclass(frozen=True, slots=True)
class IssuerKey:
    kid: str
    algorithms: frozenset[str]
    """Allowed for this issuer, possible for the key type, and the JWK's ``alg`` if it has one."""
    public_key: Any


def parse_jwks(document: bytes, allowed: frozenset[str]) -> dict[str, IssuerKey]:
    """The usable public signing keys of a JWKS; others (and any duplicated kid) are dropped."""
    try:
        data = json.loads(document)
    except ValueError:
        raise JwksUnavailable("the key set is not JSON") from None
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise JwksUnavailable("the key set has no 'keys' list")
    keys: dict[str, IssuerKey] = {}
    duplicated: set[str] = set()
    for entry in entries:
        key = usable_key(entry, allowed)
        if key is not None and key.kid in keys:
            duplicated.add(key.kid)
        elif key is not None:
            keys[key.kid] = key
    return {kid: key for kid, key in keys.items() if kid not in duplicated}


def usable_key(jwk: object, allowed: frozenset[str]) -> IssuerKey | None:
    """The JWK as a verification key, or None if it is secret, private, odd or not allowed."""
    if not isinstance(jwk, dict) or "d" in jwk or jwk.get("use", "sig") != "sig":
        return None
    kid, operations = jwk.get("kid"), jwk.get("key_ops")
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        return None
    if operations is not None and (not isinstance(operations, list) or "verify" not in operations):
        return None
    algorithms = _key_algorithms(jwk) & allowed
    if not algorithms:
        return None
    try:
        public_key = jwt.PyJWK(jwk, algorithm=min(algorithms)).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    return IssuerKey(kid=kid, algorithms=algorithms, public_key=public_key)


def _key_algorithms(jwk: dict[str, Any]) -> frozenset[str]:
    key_type, curve, declared = jwk.get("kty"), jwk.get("crv"), jwk.get("alg")
    if not isinstance(key_type, str) or not isinstance(curve, str | None):
        return frozenset()
    possible = KEY_ALGORITHMS.get((key_type, None if key_type == "RSA" else curve), frozenset())
    if declared is None:
        return possible
    return possible & {declared} if isinstance(declared, str) else frozenset()


class JwksSource(Protocol):
    @property
    def location(self) -> str: ...

    async def read(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class JwksUrl:
    """A JWKS served over https; one short-lived client per fetch, no redirects followed."""

    location: str
    timeout: float
    tls: ssl.SSLContext | None = None

    async def read(self) -> bytes:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._download()
        except TimeoutError:
            raise JwksUnavailable(f"no complete answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise JwksUnavailable(f"fetch failed ({type(exc).__name__})") from None

    async def _download(self) -> bytes:
        verify: ssl.SSLContext | bool = self.tls or True
        headers = {"Accept": "application/json"}
        async with (
            httpx.AsyncClient(timeout=self.timeout, verify=verify) as client,
            client.stream("GET", self.location, headers=headers) as response,
        ):
            if response.status_code != httpx.codes.OK:
                raise JwksUnavailable(f"answered HTTP {response.status_code}")
            return await _capped_body(response)


async def _capped_body(response: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_JWKS_BYTES:
            raise JwksUnavailable(f"the key set is larger than {MAX_JWKS_BYTES} bytes")
    return bytes(body)


@dataclass(frozen=True, slots=True)
class JwksFile:
    """A JWKS kept in a local file, read again on every refresh."""

    location: str

    async def read(self) -> bytes:
        try:
            return await asyncio.to_thread(Path(self.location).read_bytes)
        except OSError as exc:
            raise JwksUnavailable(f"cannot read the key file ({exc.strerror})") from None


class CachedJwks:
    """An issuer's keys by kid, fetched on demand and at most once per minimum interval."""

    def __init__(self, config: IssuerConfig, source: JwksSource, clock: Clock) -> None:
        self._issuer = config.issuer
        self._allowed = frozenset(config.algorithms)
        self._max_age = config.refresh_interval_seconds
        self._min_interval = config.min_refresh_interval_seconds
        self._source = source
        self._clock = clock
        self._keys: dict[str, IssuerKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> IssuerKey:
        """The key ``kid`` names; 401 if the issuer does not publish it, 503 if unreachable."""
        if self._is_stale() and not (self._keys and self._lock.locked()):
            await self._refresh_if(self._is_stale)  # with keys cached, never queue behind it
        if kid not in self._keys:
            await self._refresh_if(lambda: kid not in self._keys)
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._fetched_at is None:
            raise ServiceUnavailableError(
                "the token's identity provider cannot be reached; try again later",
                code="identity_provider_unavailable",
            )
        raise AuthenticationError("token was signed with an unknown key")

    def _is_stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age

    def _may_fetch(self) -> bool:
        return (
            self._attempted_at is None or self._clock() - self._attempted_at >= self._min_interval
        )

    async def _refresh_if(self, needed: Callable[[], bool]) -> None:
        async with self._lock:
            if needed() and self._may_fetch():
                await self._fetch()

    async def _fetch(self) -> None:
        self._attempted_at = self._clock()
        try:
            keys = parse_jwks(await self._source.read(), self._allowed)
        except JwksUnavailable as exc:
            log.warning(
                "oidc_jwks_unavailable",
                issuer=self._issuer,
                source=self._source.location,
                reason=str(exc),
                cached_keys=len(self._keys),
            )
            return
        self._keys, self._fetched_at = keys, self._attempted_at
        log.info("oidc_jwks_refreshed", issuer=self._issuer, kids=sorted(keys))


class OidcIssuer:
    """Verifies one trusted issuer's tokens and maps their claims onto an Enclave Principal."""

    def __init__(
        self, config: IssuerConfig, *, keys: CachedJwks, directory: IdentityDirectory
    ) -> None:
        self.issuer = config.issuer
        self._config = config
        self._keys = keys
        self._directory = directory

    async def verify(self, token: str, header: Mapping[str, Any]) -> Principal:
        algorithm = str(header.get("alg"))
        if algorithm not in self._config.algorithms:
            raise AuthenticationError("token algorithm is not allowed")
        key = await self._keys.key_for(str(header.get("kid")))
        if algorithm not in key.algorithms:
            raise AuthenticationError("token algorithm is not allowed")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[algorithm],
                audience=self._config.audience,
                issuer=self._config.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.InvalidTokenError as exc:
            raise translate(exc) from None
        return await self._principal(claims)

    async def _principal(self, claims: Mapping[str, Any]) -> Principal:
        tenant = await self._active_tenant(string_claim(claims, self._config.tenant_claim))
        department_claim = self._config.department_claim
        if department_claim and string_claim(claims, department_claim) != tenant.department:
            raise PermissionDeniedError(
                "token department does not match the tenant's department",
                code="department_mismatch",
            )
        roles_name = self._config.roles_claim
        return Principal(
            tenant=tenant.name,
            department=tenant.department,
            subject=string_claim(claims, "sub"),
            roles=self._grantable(roles_claim(claims, roles_name))
            if roles_name in claims
            else frozenset(),
            token_id=string_claim(claims, "jti") if "jti" in claims else None,
            issuer=self.issuer,
        )

    def _grantable(self, roles: frozenset[str]) -> frozenset[str]:
        return roles & frozenset(self._config.grantable_roles)

    async def _active_tenant(self, name: str) -> TenantStatus:
        allowed = self._config.tenants
        if allowed is not None and name not in allowed:
            raise PermissionDeniedError(
                "this identity provider may not act for the tenant", code="tenant_not_allowed"
            )
        status = await self._directory.tenant_status(name)
        if status is None:
            raise AuthenticationError("token tenant is not known to this server")
        if not status.active:
            raise PermissionDeniedError("tenant is suspended", code="tenant_suspended")
        return status


def load_trusted_issuers(
    path: Path, directory: IdentityDirectory, *, clock: Clock = time.monotonic
) -> dict[str, OidcIssuer]:
    """The issuers of ``path`` by ``iss``, ready for ``TokenVerifier(external=...)``."""
    issuers: dict[str, OidcIssuer] = {}
    for config in read_trusted_issuers(path):
        source = _source_for(path, config)
        keys = CachedJwks(config, source, clock)
        issuers[config.issuer] = OidcIssuer(config, keys=keys, directory=directory)
    return issuers


def _source_for(path: Path, config: IssuerConfig) -> JwksSource:
    where = f"{path}: issuer {config.issuer!r}"
    if config.jwks_url is not None:
        tls = _tls_for(where, config.ca_file)
        return JwksUrl(location=config.jwks_url, timeout=config.fetch_timeout_seconds, tls=tls)
    key_file = Path(config.jwks_file or "")  # read_trusted_issuers made sure one is set
    _check_key_file(where, key_file, frozenset(config.algorithms))
    return JwksFile(location=str(key_file))


def _tls_for(where: str, ca_file: str | None) -> ssl.SSLContext | None:
    try:
        return client_ssl_context(Path(ca_file)) if ca_file else None
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: ca_file: {exc}") from exc


def _check_key_file(where: str, key_file: Path, allowed: frozenset[str]) -> None:
    """Refuse at start-up a JWKS file that is unreadable or has no usable key."""
    try:
        keys = parse_jwks(key_file.read_bytes(), allowed)
    except OSError as exc:
        raise ConfigurationError(f"{where}: jwks_file {key_file}: {exc.strerror}") from exc
    except JwksUnavailable as exc:
        raise ConfigurationError(f"{where}: jwks_file {key_file}: {exc}") from exc
    if not keys:
        raise ConfigurationError(
            f"{where}: jwks_file {key_file}: no usable signing key for {sorted(allowed)}"
        )
