"""Route guards: which role a route needs. Every non-public route must declare one."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from gateway.auth.principal import Principal
from gateway.errors import AuthenticationError, PermissionDeniedError

PUBLIC_OPT_KEY = "exclude_from_auth"
ROLE_OPT_KEY = "required_role"


def requires_role(role: str) -> Guard:
    """Refuse callers whose token lacks ``role`` (403); unauthenticated callers get 401."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal):
            raise AuthenticationError("authentication required")
        if not principal.has_role(role):
            raise PermissionDeniedError(
                f"this route needs the '{role}' role, which the token does not grant"
            )

    guard.__name__ = f"requires_{role}"
    return guard


def requires_any_role(*roles: str) -> Guard:
    """Refuse callers whose token grants none of ``roles`` (403); unauthenticated get 401."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not any(principal.has_role(role) for role in roles):
            raise PermissionDeniedError(
                f"this route needs one of the roles {', '.join(sorted(roles))}"
            )

    guard.__name__ = "requires_" + "_or_".join(sorted(roles))
    return guard


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise AuthenticationError("authentication required")
    return principal
