"""Stand-ins are consistent within a request and hide what they stand for."""

from __future__ import annotations

from gateway.redaction import PseudonymTable


def test_the_same_value_always_gets_the_same_placeholder() -> None:
    table = PseudonymTable()
    first = table.placeholder_for("PERSON", "Maria Gonzalez")
    assert table.placeholder_for("PERSON", "Maria Gonzalez") == first == "<PERSON_1>"


def test_different_values_get_consecutive_numbers_per_type() -> None:
    table = PseudonymTable()
    assert table.placeholder_for("PERSON", "Maria") == "<PERSON_1>"
    assert table.placeholder_for("PERSON", "Bob") == "<PERSON_2>"
    assert table.placeholder_for("EMAIL_ADDRESS", "a@example.com") == "<EMAIL_ADDRESS_1>"
    assert table.placeholder_for("PERSON", "Maria") == "<PERSON_1>"
    assert len(table) == 3


def test_restore_replaces_known_placeholders_only() -> None:
    table = PseudonymTable()
    table.placeholder_for("PERSON", "Maria")
    assert table.restore("Hi <PERSON_1> and <PERSON_2>") == "Hi Maria and <PERSON_2>"
    assert table.original("<PERSON_1>") == "Maria"
    assert table.original("<PERSON_9>") is None


def test_repr_tells_how_many_not_what() -> None:
    table = PseudonymTable()
    table.placeholder_for("PERSON", "Maria Gonzalez")
    assert repr(table) == "PseudonymTable(1 placeholders)"
