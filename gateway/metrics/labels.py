"""Label values that are safe to export: a known charset, and a bounded number of them.

Every label value that reaches Prometheus passes through one of these functions. A value
outside its charset becomes ``invalid`` (so raw paths, prompts, e-mail addresses or token
material can never become a time series); a value beyond a label's budget of distinct
values becomes ``other`` (so one noisy dimension cannot explode the series count).
Nothing here raises: a metrics call must never break the request it describes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection

INVALID = "invalid"
"""Label value for anything outside the label's charset."""
OTHER = "other"
"""Label value for distinct values beyond a label's budget."""
UNMATCHED_ROUTE = "unmatched"
"""Route label for requests that matched no route (404s): never the raw path."""

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
"""Tenant and department names, as Enclave's identity and policy code already require."""
ENTITY_TYPE_PATTERN = re.compile(r"[A-Z][A-Z0-9_]{0,62}")
"""Presidio entity types (``EMAIL_ADDRESS``, ``US_SSN``, custom ``EMPLOYEE_ID``)."""
ROUTE_PATTERN = re.compile(r"/[a-z0-9/_{}:.-]{0,127}")
"""Route templates such as ``/v1/chat/completions`` or ``/v1/audit/records/{record_id:str}``."""
COMPONENT_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""Readiness components such as ``engine`` or ``rate_limit_store``."""


class BoundedLabel:
    """Maps raw values to safe label values: the first ``max_values`` distinct valid
    values map to themselves, later ones to ``other``, malformed ones to ``invalid``."""

    def __init__(self, pattern: re.Pattern[str], max_values: int) -> None:
        if max_values < 1:
            raise ValueError("a label needs room for at least one value")
        self._pattern = pattern
        self._max_values = max_values
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if not self._pattern.fullmatch(value):
            return INVALID
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) >= self._max_values:
                return OTHER
            self._seen.add(value)
            return value

    @property
    def seen(self) -> frozenset[str]:
        """The values admitted so far (each has its own series)."""
        with self._lock:
            return frozenset(self._seen)


class TenantLabels(BoundedLabel):
    """Tenant (or department) names as label values, at most ``max_tenants`` of them."""

    def __init__(self, max_tenants: int = 50) -> None:
        super().__init__(NAME_PATTERN, max_tenants)


class EntityTypeLabels(BoundedLabel):
    """PII entity types as label values, at most ``max_types`` of them."""

    def __init__(self, max_types: int = 64) -> None:
        super().__init__(ENTITY_TYPE_PATTERN, max_types)


class RouteLabels(BoundedLabel):
    """Route templates (never raw paths) as label values, at most ``max_routes`` of them.

    A template carries parameter placeholders (``{record_id:str}``), so its charset is
    lower case, digits, ``/_{}:.-``: an upper-case or percent-encoded raw path is refused.
    """

    def __init__(self, max_routes: int = 64) -> None:
        super().__init__(ROUTE_PATTERN, max_routes)

    def __call__(self, value: str) -> str:
        if value == UNMATCHED_ROUTE:
            return value
        return super().__call__(value)


def choice_label(value: str, allowed: Collection[str]) -> str:
    """``value`` when it is one of ``allowed``, else ``invalid``."""
    return value if value in allowed else INVALID


def status_label(status: int) -> str:
    """An HTTP status code as a label value (``"200"``); out-of-range codes are ``invalid``."""
    return str(status) if 100 <= status <= 599 else INVALID
