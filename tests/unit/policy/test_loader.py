"""Loading policy files: inheritance, and problems a security team can act on (file:line)."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigurationError
from gateway.policy.loader import load_policy_set
from gateway.policy.problems import PolicyError
from tests.unit.policy.policy_folder import DEFAULT_YAML, PolicyFolder


def test_a_department_file_inherits_what_it_does_not_set(folder: PolicyFolder) -> None:
    folder.write(
        "finance",
        """\
        extends: default
        limits:
          max_tokens: 200
        pii:
          entities:
            PERSON: {action: pseudonymize}
        """,
    )
    finance = folder.load().policy_for("finance")
    assert finance.extends_chain == ("default",)
    assert finance.limits.max_tokens == 200
    assert finance.limits.max_messages == 10  # the rest of limits comes from default
    assert finance.pii.entities["PERSON"].action == "pseudonymize"
    assert finance.pii.entities["PERSON"].direction == "input"  # merged key by key
    assert finance.pii.entities["EMAIL_ADDRESS"].action == "redact"
    assert finance.audit.retention_days == 30


def test_lists_are_replaced_not_appended(folder: PolicyFolder) -> None:
    folder.write(
        "finance",
        """\
        extends: default
        models: [approved-model]
        limits:
          allowed_parameters: [max_tokens]
        """,
    )
    finance = folder.load().policy_for("finance")
    assert finance.models == ("approved-model",)
    assert finance.limits.allowed_parameters == ("max_tokens",)


def test_description_and_extends_are_not_inherited(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\n")
    finance = folder.load().policy_for("finance")
    assert finance.description == ""
    assert finance.name == "finance"


def test_chains_resolve_through_every_parent(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\nlimits: {max_tokens: 500, max_n: 1}\n")
    folder.write("payroll", "extends: finance\nlimits: {max_tokens: 100}\n")
    payroll = folder.load().policy_for("payroll")
    assert payroll.extends_chain == ("finance", "default")
    assert (payroll.limits.max_tokens, payroll.limits.max_n) == (100, 1)
    assert payroll.limits.max_messages == 10


def test_departments_without_a_file_get_the_default_policy(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\nlimits: {max_tokens: 5}\n")
    policies = folder.load()
    assert policies.departments == ("default", "finance")
    assert policies.policy_for("marketing").name == "default"
    assert policies.policy_for("Finance").name == "finance"


def test_a_cycle_is_named_with_its_members(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: payroll\n")
    folder.write("payroll", "extends: finance\n")
    line = folder.line_of("payroll", "extends")
    assert folder.problems() == [
        f"{folder.file('payroll')}:{line}: extends: cycle: finance → payroll → finance"
    ]


def test_a_file_cannot_extend_itself(folder: PolicyFolder) -> None:
    folder.write("finance", "description: x\nextends: finance\n")
    assert folder.problems() == [f"{folder.file('finance')}:2: extends: cycle: finance → finance"]


def test_a_missing_parent_is_named_with_the_policies_there_are(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: defualt\n")
    assert folder.problems() == [
        f'{folder.file("finance")}:1: extends: no policy named "defualt" (have: default, finance)'
    ]


def test_default_yaml_is_required(folder: PolicyFolder) -> None:
    (folder.path / "default.yaml").unlink()
    folder.write("finance", DEFAULT_YAML)
    assert folder.problems() == [
        f"{folder.file('default')}: missing; departments without a policy file of their own use it"
    ]


def test_a_missing_folder_is_a_configuration_error(folder: PolicyFolder) -> None:
    with pytest.raises(ConfigurationError, match="policy folder not found"):
        load_policy_set(folder.path / "nope")


def test_unknown_fields_are_refused_at_their_line(folder: PolicyFolder) -> None:
    folder.write(
        "finance",
        """\
        extends: default
        limits:
          max_tokens: 10
          max_tokenz: 20
        rate_limit: {}
        """,
    )
    file = folder.file("finance")
    assert folder.problems() == [
        f"{file}:4: limits.max_tokenz: unknown field (expected one of: max_tokens, "
        "max_prompt_chars, max_prompt_tokens, max_messages, max_n, max_logprobs, "
        "allowed_parameters)",
        f"{file}:5: rate_limit: unknown field (expected one of: extends, description, models, "
        "limits, rate_limits, pii, audit, cache)",
    ]


def test_yaml_syntax_errors_give_the_line(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\nlimits:\n  max_tokens: [10\n  max_n: 1\n")
    (problem,) = folder.problems()
    assert problem.startswith(f"{folder.file('finance')}:4: YAML syntax: ")
    assert "flow sequence" in problem


def test_duplicate_keys_are_refused(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\nlimits:\n  max_tokens: 10\n  max_tokens: 99\n")
    assert folder.problems() == [
        f"{folder.file('finance')}:4: limits.max_tokens: duplicate key (the later one would win)"
    ]


def test_a_file_that_is_not_a_mapping_is_refused(folder: PolicyFolder) -> None:
    folder.write("finance", "- just\n- a list\n")
    assert folder.problems() == [
        f"{folder.file('finance')}:1: expected a mapping of sections (models, limits, pii, ...)"
    ]


def test_alias_bombs_are_refused(folder: PolicyFolder) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    folder.write("finance", "\n".join(lines) + "\n")
    (problem,) = folder.problems()
    assert "too large for a policy" in problem


def test_yml_files_are_not_silently_ignored(folder: PolicyFolder) -> None:
    (folder.path / "finance.yml").write_text("extends: default\n")
    assert folder.problems() == [
        f"{folder.path / 'finance.yml'}: rename to finance.yaml; only .yaml files are loaded"
    ]


def test_file_names_must_be_department_names(folder: PolicyFolder) -> None:
    folder.write("Finance Team", "extends: default\n")
    (problem,) = folder.problems()
    assert problem.startswith(f"{folder.file('Finance Team')}: the file name is the department")


def test_hidden_and_other_files_are_skipped(folder: PolicyFolder) -> None:
    (folder.path / ".#finance.yaml").write_text("garbage: [")
    (folder.path / "README.md").write_text("# policies")
    assert folder.load().departments == ("default",)


def test_a_missing_field_is_reported_where_it_belongs(folder: PolicyFolder) -> None:
    folder.write("default", DEFAULT_YAML.replace("  max_n: 2\n", ""))
    folder.write("finance", "extends: default\nlimits:\n  max_tokens: 10\n")
    assert folder.problems() == [
        f"{folder.file('default')}:3: limits.max_n: missing (set it here or in a parent)",
        f"{folder.file('finance')}:2: limits.max_n: missing (set it here or in a parent)",
    ]


def test_a_missing_section_is_reported_once_at_the_root_of_the_chain(
    folder: PolicyFolder,
) -> None:
    audit_start = DEFAULT_YAML.index("audit:")
    folder.write("default", DEFAULT_YAML[:audit_start])
    folder.write("finance", "extends: default\n")
    assert folder.problems() == [
        f"{folder.file('default')}:1: audit: missing (set it here or in a parent)"
    ]


def test_an_inherited_problem_is_reported_once(folder: PolicyFolder) -> None:
    folder.write("default", DEFAULT_YAML.replace("max_messages: 10", "max_messages: -1"))
    folder.write("finance", "extends: default\n")
    folder.write("hr", "extends: default\n")
    line = folder.line_of("default", "max_messages")
    assert folder.problems() == [
        f"{folder.file('default')}:{line}: limits.max_messages: expected an integer >= 1, got -1"
    ]


def test_every_problem_in_every_file_is_reported_at_once(folder: PolicyFolder) -> None:
    folder.write(
        "finance",
        """\
        extends: default
        limits:
          max_tokens: lots
        pii:
          score_threshold: 2
          entities:
            CREDIT_CARD: {action: blok}
        audit:
          content: everything
        """,
    )
    folder.write("hr", "extends: default\nmodels: [\n")
    folder.write("support", "extends: default\nlimits: {max_n: 0}\n")
    finance, hr, support = folder.file("finance"), folder.file("hr"), folder.file("support")
    problems = folder.problems()
    assert problems[:4] == [
        f'{finance}:3: limits.max_tokens: expected an integer >= 1, got "lots"',
        f"{finance}:5: pii.score_threshold: expected a number <= 1.0, got 2",
        f"{finance}:7: pii.entities.CREDIT_CARD.action: expected one of redact, pseudonymize, "
        'block, allow; got "blok"',
        f'{finance}:9: audit.content: expected one of none, redacted, full; got "everything"',
    ]
    assert problems[4].startswith(f"{hr}:3: YAML syntax: ")
    assert problems[5:] == [f"{support}:2: limits.max_n: expected an integer >= 1, got 0"]


def test_the_error_is_a_configuration_error_listing_every_problem(folder: PolicyFolder) -> None:
    folder.write("finance", "extends: default\nlimits: {max_n: 0, max_messages: 0}\n")
    with pytest.raises(PolicyError) as caught:
        folder.load()
    assert isinstance(caught.value, ConfigurationError)
    assert str(caught.value).startswith("2 problems in the policy files:\n")
    assert "limits.max_messages" in str(caught.value)
    assert "limits.max_n" in str(caught.value)
