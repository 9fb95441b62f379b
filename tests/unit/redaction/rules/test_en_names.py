"""English names the words around announce, and capitalized phrases that are not names."""

from __future__ import annotations

import pytest

from tests.unit.redaction.rules.support import found, zero_width


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi, this is Gregory Reed. Please reply soon.", "Gregory Reed"),
        ("Call Connie Becker at (212) 419-0926.", "Connie Becker"),
        ("Employee Troy Davenport listed his SSN.", "Troy Davenport"),
        ("The account belongs to Christina Young.", "Christina Young"),
        ("Megan Mcgee asked whether the refund was processed.", "Megan Mcgee"),
        ("The payer is Kimberly Shepard.", "Kimberly Shepard"),
        ("Dear Mr. O'Brien-Smith Jones, thanks.", "O'Brien-Smith Jones"),
        ("Please tell Richard M. Nixon now.", "Richard M. Nixon"),
        (zero_width("Call Connie Becker"), "Connie Becker"),
    ],
)
def test_names_after_person_cues_are_found(text: str, name: str) -> None:
    assert found(text, "PERSON") == [name]


@pytest.mark.parametrize(
    "text",
    [
        "Please ask Customer Service or the Help Desk about the Black Friday sale.",
        "Call Center Operations opens at nine.",
        "Dear Hiring Manager, please find my CV attached.",
        "Hi Team, the release is out.",
        "Contact Sales Operations for a quote.",
        "recall Maria Lopez",  # "call" inside another word is no cue
        "Q3 Planning asked for the numbers.",
    ],
)
def test_capitalized_phrases_that_are_not_names(text: str) -> None:
    assert found(text, "PERSON") == []
