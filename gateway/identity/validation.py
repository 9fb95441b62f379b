"""What a tenant name, department, subject and role list may look like."""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.auth.principal import ROLES
from gateway.errors import InvalidRequestError

NAME_MAX_LENGTH = 63
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
"""Tenant and department names: lower-case letters, digits and '-', not starting with '-'."""
SUBJECT_MAX_LENGTH = 255
SUBJECT_PATTERN = re.compile(r"[!-~]+")
"""Token subjects: printable ASCII without spaces (they appear in logs and audit records)."""


def checked_name(value: str, *, param: str) -> str:
    """``value`` if it is a valid tenant or department name, else InvalidRequestError."""
    if not 1 <= len(value) <= NAME_MAX_LENGTH or not NAME_PATTERN.fullmatch(value):
        raise InvalidRequestError(
            f"{param} {value!r} is not valid: use 1-{NAME_MAX_LENGTH} lower-case letters, "
            "digits and '-', starting with a letter or digit",
            param=param,
            code="invalid_name",
        )
    return value


def checked_subject(value: str) -> str:
    if not 1 <= len(value) <= SUBJECT_MAX_LENGTH or not SUBJECT_PATTERN.fullmatch(value):
        raise InvalidRequestError(
            f"subject is not valid: use 1-{SUBJECT_MAX_LENGTH} printable characters, no spaces",
            param="subject",
            code="invalid_subject",
        )
    return value


def checked_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """The roles, de-duplicated and sorted; at least one, each one of app, compliance, admin."""
    chosen = {role.strip() for role in roles if role.strip()}
    unknown = sorted(chosen - ROLES)
    if unknown:
        raise InvalidRequestError(
            f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(sorted(ROLES))}",
            param="roles",
            code="invalid_roles",
        )
    if not chosen:
        raise InvalidRequestError(
            f"at least one role is needed ({', '.join(sorted(ROLES))})",
            param="roles",
            code="invalid_roles",
        )
    return tuple(sorted(chosen))


def parse_roles(text: str) -> tuple[str, ...]:
    """Roles written as ``app,compliance`` (commas and/or spaces)."""
    return checked_roles(text.replace(",", " ").split())
