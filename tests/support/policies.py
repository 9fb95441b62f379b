"""Policy folders for tests: the shipped default policy with other rate-limit numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

SHIPPED_DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"


def default_policy_with_rates(
    folder: Path,
    *,
    tenant: Mapping[str, int] | None = None,
    department: Mapping[str, int] | None = None,
) -> Path:
    """Write ``folder/default.yaml``: the shipped default with the given ``rate_limits`` numbers.

    Keys are the policy's own (``requests_per_minute``, ``tokens_per_minute``, ``burst``,
    ``concurrent_requests``); keys not given keep the shipped values.
    """
    per_tenant, per_department = SHIPPED_DEFAULT.read_text().split("per_department:")
    folder.mkdir()
    (folder / "default.yaml").write_text(
        _with_rates(per_tenant, tenant or {})
        + "per_department:"
        + _with_rates(per_department, department or {})
    )
    return folder


def _with_rates(section: str, rates: Mapping[str, int]) -> str:
    for key, value in rates.items():
        section = re.sub(rf"{key}: \d+", f"{key}: {value}", section)
    return section
