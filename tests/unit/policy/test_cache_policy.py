"""The ``cache`` section: off unless a policy turns it on, checked like every other field."""

from __future__ import annotations

from gateway.policy.evaluate import evaluate
from gateway.policy.explain import explanation_report, render_explanation
from gateway.policy.schema import CachePolicy
from tests.unit.policy.policy_folder import PolicyFolder
from tests.unit.policy.test_evaluate import SMALL_REQUEST, principal


def test_the_cache_is_off_unless_a_policy_turns_it_on(folder: PolicyFolder) -> None:
    folder.write(
        "support",
        """\
        extends: default
        cache: {enabled: true, ttl_seconds: 600}
        """,
    )
    policies = folder.load()
    assert policies.policy_for("default").cache == CachePolicy(enabled=False)
    assert policies.policy_for("support").cache == CachePolicy(
        enabled=True, ttl_seconds=600, max_entries=1000
    )


def test_a_child_inherits_and_overrides_the_parents_cache_settings(folder: PolicyFolder) -> None:
    folder.write("support", "extends: default\ncache: {enabled: true, max_entries: 20}\n")
    folder.write("tier2", "extends: support\ncache: {ttl_seconds: 30}\n")
    assert folder.load().policy_for("tier2").cache == CachePolicy(
        enabled=True, ttl_seconds=30, max_entries=20
    )


def test_bad_cache_settings_are_refused_at_their_line(folder: PolicyFolder) -> None:
    folder.write(
        "support",
        """\
        extends: default
        cache:
          enabled: sometimes
          ttl_seconds: 0
          max_entries: -5
          size: 10
        """,
    )
    file = folder.file("support")
    assert folder.problems() == [
        f'{file}:3: cache.enabled: expected true or false, got "sometimes"',
        f"{file}:4: cache.ttl_seconds: expected an integer >= 1, got 0",
        f"{file}:5: cache.max_entries: expected an integer >= 1, got -5",
        f"{file}:6: cache.size: unknown field (expected one of: enabled, ttl_seconds, max_entries)",
    ]


def test_explain_says_whether_answers_are_cached(folder: PolicyFolder) -> None:
    folder.write("support", "extends: default\ncache: {enabled: true, ttl_seconds: 90}\n")
    policies = folder.load()
    support = evaluate(policies, principal("support"), SMALL_REQUEST)
    assert (
        "Response cache: on for temperature 0 or seeded requests, answers kept 90 s, "
        "at most 1000 per tenant"
    ) in render_explanation(support)
    assert explanation_report(support)["cache"] == {
        "enabled": True,
        "ttl_seconds": 90,
        "max_entries": 1000,
    }
    sales = evaluate(policies, principal("sales"), SMALL_REQUEST)
    assert "Response cache: off" in render_explanation(sales)
