"""The policies/ folder that ships with Enclave loads, and says what its comments claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.policy.loader import load_policy_set
from gateway.policy.policy_set import PolicySet
from gateway.policy.regex_safety import regex_problem


@pytest.fixture
def shipped(shipped_policies: Path) -> PolicySet:
    return load_policy_set(shipped_policies)


def test_every_department_file_loads(shipped: PolicySet) -> None:
    assert shipped.departments == ("default", "engineering", "finance", "hr", "research", "support")
    for name in ("engineering", "finance", "hr", "research", "support"):
        assert shipped.policies[name].extends_chain == ("default",)


def test_finance_blocks_payment_data_and_keeps_full_encrypted_audit_for_seven_years(
    shipped: PolicySet,
) -> None:
    finance = shipped.policy_for("finance")
    assert finance.pii.entities["CREDIT_CARD"].action == "block"
    assert finance.pii.entities["IBAN_CODE"].action == "block"
    assert finance.pii.entities["PERSON"].action == "pseudonymize"
    assert finance.audit.content == "full"
    assert finance.audit.retention_days == 2555
    assert "*" not in finance.models


def test_hr_pseudonymizes_people_and_blocks_national_ids(shipped: PolicySet) -> None:
    hr = shipped.policy_for("hr")
    assert hr.pii.entities["PERSON"].action == "pseudonymize"
    assert hr.pii.entities["US_SSN"].action == "block"
    assert hr.pii.entities["CN_RESIDENT_ID"].action == "block"
    assert hr.audit.content in ("redacted", "full")


def test_engineering_finds_employee_ids_with_a_safe_pattern(shipped: PolicySet) -> None:
    pii = shipped.policy_for("engineering").pii
    recognizer = pii.recognizers["EMPLOYEE_ID"]
    assert pii.entities["EMPLOYEE_ID"].action == "pseudonymize"
    assert "employee" in recognizer.context
    for pattern in recognizer.patterns:
        assert regex_problem(pattern.regex) is None


def test_departments_tighten_or_loosen_the_default_limits(shipped: PolicySet) -> None:
    default = shipped.policy_for("default").limits
    assert shipped.policy_for("engineering").limits.max_tokens > default.max_tokens
    assert shipped.policy_for("support").limits.max_tokens < default.max_tokens
    assert shipped.policy_for("marketing") is shipped.policy_for("default")
