"""The trusted issuers file: one ``[[issuer]]`` table per external OpenID Connect provider.

Read once at start-up (``ENCLAVE_TRUSTED_ISSUERS_FILE``) with tomllib into msgspec structs
that refuse unknown fields. Every problem is a ``ConfigurationError`` naming the file, the
issuer table and the field; all problems of a file are reported together.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from gateway.auth.claims import NEVER_ALLOWED_ALGORITHMS
from gateway.auth.principal import ROLES
from gateway.errors import ConfigurationError

SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Public-key signature algorithms an issuer may be allowed (never ``none``, never HMAC)."""
DEFAULT_ALGORITHMS = ("RS256", "ES256", "EdDSA")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
"""Hosts whose JWKS may be fetched over plain http (local test identity providers only)."""

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=86_400)]


class IssuerConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One trusted issuer: where its keys are, what its tokens must say, how claims map."""

    issuer: NonEmpty
    """The token's ``iss``, compared exactly (no prefix, case or trailing-slash leniency)."""
    audience: NonEmpty
    """The token's ``aud``, compared exactly; it must be a single string, not a list."""
    tenant_claim: NonEmpty
    """Claim naming the Enclave tenant; the tenant must exist and be active."""
    jwks_url: str | None = None
    """https URL of the issuer's JWKS (http only for 127.0.0.1, ::1 and localhost)."""
    jwks_file: str | None = None
    """Local JWKS file instead of a URL; relative to this file's folder; re-read on refresh."""
    ca_file: str | None = None
    """PEM CA bundle trusted for ``jwks_url`` instead of the default (certifi) roots."""
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    """Signature algorithms accepted from this issuer; a key is used only for these."""
    roles_claim: NonEmpty = "roles"
    """Claim with Enclave roles (a list or a space-separated string); absent means no roles."""
    grantable_roles: tuple[NonEmpty, ...] = ("app", "compliance")
    """The Enclave roles this issuer's tokens may carry; others in the claim are dropped.
    ``admin`` is left out unless listed here: an identity provider's group mapping should
    not be one misconfiguration away from administering Enclave."""
    department_claim: str | None = None
    """If set, this claim must equal the tenant's department in Enclave (else 403)."""
    tenants: tuple[NonEmpty, ...] | None = None
    """If set, the only tenants this issuer may speak for (else any registered tenant)."""
    refresh_interval_seconds: Seconds = 300.0
    """Age after which the cached JWKS is fetched again."""
    min_refresh_interval_seconds: Seconds = 30.0
    """Least time between two fetches, whatever the reason (unknown kid, failure)."""
    fetch_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 3.0
    """Whole-fetch deadline for the JWKS (connect, TLS, headers and body)."""


class TrustedIssuersFile(msgspec.Struct, forbid_unknown_fields=True):
    issuer: list[IssuerConfig] = []


def read_trusted_issuers(path: Path) -> list[IssuerConfig]:
    """Every issuer of ``path``, validated, with file paths resolved against its folder."""
    document = _decode(path, _read_toml(path))
    problems = _duplicate_problems(document.issuer)
    for index, config in enumerate(document.issuer):
        label = f"issuer[{index}] ({config.issuer})"
        problems += [f"{label}: {problem}" for problem in issuer_problems(config)]
    if problems:
        raise ConfigurationError(f"{path}: " + "; ".join(problems))
    return [_resolved(config, path.parent) for config in document.issuer]


def _read_toml(path: Path) -> object:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot read trusted issuers file: {exc.strerror}"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: invalid TOML: {exc}") from exc


def _decode(path: Path, data: object) -> TrustedIssuersFile:
    try:
        return msgspec.convert(data, TrustedIssuersFile)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc


def _duplicate_problems(configs: list[IssuerConfig]) -> list[str]:
    counts = Counter(config.issuer for config in configs)
    return [f"issuer {name!r}: listed {n} times" for name, n in counts.items() if n > 1]


def issuer_problems(config: IssuerConfig) -> list[str]:
    """What is wrong with one issuer table, one ``field: problem`` string each."""
    problems = _source_problems(config) + _algorithm_problems(config.algorithms)
    if config.min_refresh_interval_seconds > config.refresh_interval_seconds:
        problems.append("min_refresh_interval_seconds: must not exceed refresh_interval_seconds")
    if config.tenants is not None and not config.tenants:
        problems.append("tenants: leave it out to allow every tenant; an empty list allows none")
    unknown = sorted(set(config.grantable_roles) - ROLES)
    if unknown:
        problems.append(f"grantable_roles: unknown role(s) {', '.join(unknown)}")
    if config.department_claim == "":
        problems.append("department_claim: must not be empty (leave it out instead)")
    return problems


def _source_problems(config: IssuerConfig) -> list[str]:
    url, file = config.jwks_url, config.jwks_file
    if (url is None) == (file is None):
        return ["jwks_url / jwks_file: give exactly one of them"]
    if url is not None:
        problem = jwks_url_problem(url)
        return [] if problem is None else [f"jwks_url: {problem}"]
    if config.ca_file is not None:
        return ["ca_file: only applies to jwks_url"]
    return [] if file else ["jwks_file: must not be empty"]


def jwks_url_problem(url: str) -> str | None:
    """Why ``url`` may not serve a JWKS, or None: https, or http on a loopback host only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "not a valid URL"
    if not host:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return None
    return "must use https (http is allowed only for 127.0.0.1, ::1 and localhost)"


def _algorithm_problems(algorithms: tuple[str, ...]) -> list[str]:
    if not algorithms:
        return ["algorithms: list at least one algorithm"]
    problems = []
    for algorithm in algorithms:
        if _never_allowed(algorithm):
            problems.append(f"algorithms: {algorithm!r} is never allowed (no or shared-key MAC)")
        elif algorithm not in SUPPORTED_ALGORITHMS:
            supported = ", ".join(sorted(SUPPORTED_ALGORITHMS))
            problems.append(f"algorithms: {algorithm!r} is not supported ({supported})")
    return problems


def _never_allowed(algorithm: str) -> bool:
    return algorithm in NEVER_ALLOWED_ALGORITHMS or algorithm.upper().startswith(("HS", "NONE"))


def _resolved(config: IssuerConfig, folder: Path) -> IssuerConfig:
    def resolve(name: str | None) -> str | None:
        return None if name is None else str(folder / Path(name).expanduser())

    return msgspec.structs.replace(
        config, jwks_file=resolve(config.jwks_file), ca_file=resolve(config.ca_file)
    )
