"""Every field of a policy is checked, and the message says what a good value looks like."""

from __future__ import annotations

import pytest

from tests.unit.policy.policy_folder import PolicyFolder

INT_ONE_OR_MORE = "expected an integer >= 1"

BAD_VALUES = [
    ("models", '"*"', 'expected a list, got "*"'),
    ("models", '[""]', '[0]: expected a string of length >= 1, got ""'),
    ("limits.max_tokens", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("limits.max_tokens", "lots", f'{INT_ONE_OR_MORE}, got "lots"'),
    ("limits.max_tokens", "1.5", f"{INT_ONE_OR_MORE}, got 1.5"),
    ("limits.max_tokens", "true", f"{INT_ONE_OR_MORE}, got true"),
    ("limits.max_prompt_chars", "-5", f"{INT_ONE_OR_MORE}, got -5"),
    ("limits.max_prompt_tokens", "null", f"{INT_ONE_OR_MORE}, got null"),
    ("limits.max_messages", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("limits.max_n", "[]", f"{INT_ONE_OR_MORE}, got a list"),
    ("limits.allowed_parameters", "temperature", 'expected a list, got "temperature"'),
    ("rate_limits.per_tenant.requests_per_minute", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("rate_limits.per_tenant.tokens_per_minute", "x", f'{INT_ONE_OR_MORE}, got "x"'),
    ("rate_limits.per_tenant.concurrent_requests", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("rate_limits.per_tenant.burst", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("rate_limits.per_department.requests_per_minute", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("rate_limits.per_department.tokens_per_minute", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("rate_limits.per_department.concurrent_requests", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("rate_limits.per_department.burst", "0", f"{INT_ONE_OR_MORE}, got 0"),
    ("pii.score_threshold", "-0.1", "expected a number >= 0.0, got -0.1"),
    ("pii.score_threshold", "high", 'expected a number >= 0.0 and <= 1.0, got "high"'),
    ("pii.entities.PERSON.action", "hide", "expected one of redact, pseudonymize, block, allow"),
    ("pii.entities.PERSON.direction", "inbound", "expected one of input, output, both"),
    ("pii.entities.PERSON.score_threshold", "1.5", "expected a number <= 1.0, got 1.5"),
    ("audit.content", "all", 'expected one of none, redacted, full; got "all"'),
    ("audit.retention_days", "0", "expected an integer >= 1, got 0"),
    ("audit.retention_days", "100000", "expected an integer <= 36500, got 100000"),
    ("audit.retention_days", "forever", 'expected an integer >= 1 and <= 36500, got "forever"'),
]


def set_value(folder: PolicyFolder, dotted: str, value: str) -> None:
    """Write finance.yaml setting ``dotted`` to ``value`` (YAML) over the default."""
    *parents, leaf = dotted.split(".")
    lines = [] if dotted == "extends" else ["extends: default"]
    for depth, parent in enumerate(parents):
        lines.append(f"{'  ' * depth}{parent}:")
    lines.append(f"{'  ' * len(parents)}{leaf}: {value}")
    folder.write("finance", "\n".join(lines) + "\n")


@pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
def test_each_field_is_validated(
    folder: PolicyFolder, field: str, value: str, message: str
) -> None:
    set_value(folder, field, value)
    leaf = field.rsplit(".", 1)[-1]
    where = f"{folder.file('finance')}:{folder.line_of('finance', leaf + ':')}"
    separator = "" if message.startswith("[") else ": "  # list items: models[0]: ...
    (problem,) = folder.problems()
    assert problem.startswith(f"{where}: {field}{separator}{message}"), problem


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("limits.allowed_parameters", "[tempreature]", 'unknown request parameter "tempreature"'),
        ("pii.entities.CREDITCARD", "{action: block}", "unknown entity type"),
        ("pii.entities.credit_card", "{action: block}", "not a valid name: expected a string"),
        ("pii.entities.PERSON", "{action: block, when: always}", "unknown field"),
    ],
)
def test_names_are_checked_against_what_exists(
    folder: PolicyFolder, field: str, value: str, message: str
) -> None:
    set_value(folder, field, value)
    (problem,) = folder.problems()
    assert f": {field}" in problem
    assert message in problem


def test_a_recognizer_needs_a_rule_for_its_entity(folder: PolicyFolder) -> None:
    folder.write(
        "engineering",
        """\
        extends: default
        pii:
          recognizers:
            EMPLOYEE_ID:
              patterns:
                - regex: 'EMP-\\d{6}'
        """,
    )
    assert folder.problems() == [
        f"{folder.file('engineering')}:4: pii.recognizers.EMPLOYEE_ID: no rule for this entity; "
        "add pii.entities.EMPLOYEE_ID with an action"
    ]


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("(a+)+", "nested quantifier"),
        ("(EMP-\\d+)*", "nested quantifier"),
        ("(a)\\1", "backreference"),
        ("EMP-(\\d{6}", "does not compile"),
        ("\\d*", "matches the empty string"),
        ("a" * 513, "expected a string of length <= 512"),
    ],
)
def test_unsafe_or_broken_regexes_are_refused_at_their_line(
    folder: PolicyFolder, regex: str, message: str
) -> None:
    folder.write(
        "engineering",
        f"""\
        extends: default
        pii:
          entities:
            EMPLOYEE_ID: {{action: redact}}
          recognizers:
            EMPLOYEE_ID:
              context: [employee]
              patterns:
                - regex: '\\bEMP-\\d{{6}}\\b'
                - regex: '{regex}'
        """,
    )
    (problem,) = folder.problems()
    line = folder.line_of("engineering", regex[:20])
    field = "pii.recognizers.EMPLOYEE_ID.patterns[1].regex"
    assert problem.startswith(f"{folder.file('engineering')}:{line}: {field}: ")
    assert message in problem


def test_a_recognizer_needs_at_least_one_pattern(folder: PolicyFolder) -> None:
    folder.write(
        "engineering",
        """\
        extends: default
        pii:
          entities: {EMPLOYEE_ID: {action: redact}}
          recognizers:
            EMPLOYEE_ID: {patterns: []}
        """,
    )
    (problem,) = folder.problems()
    assert "pii.recognizers.EMPLOYEE_ID.patterns: expected a list of length >= 1" in problem


def test_a_custom_recognizer_with_context_words_loads(folder: PolicyFolder) -> None:
    folder.write(
        "engineering",
        """\
        extends: default
        pii:
          entities: {EMPLOYEE_ID: {action: pseudonymize}}
          recognizers:
            EMPLOYEE_ID:
              patterns: [{regex: '\\bEMP-\\d{6}\\b', score: 0.6}]
              context: [employee, badge]
        """,
    )
    recognizer = folder.load().policy_for("engineering").pii.recognizers["EMPLOYEE_ID"]
    assert recognizer.patterns[0].regex == "\\bEMP-\\d{6}\\b"
    assert recognizer.patterns[0].score == 0.6
    assert recognizer.context == ("employee", "badge")
