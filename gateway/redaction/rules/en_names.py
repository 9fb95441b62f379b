"""English personal names announced by the words around them (``PERSON``), beside spaCy.

spaCy's small English model misses a name now and then, often right after a word that
says a person follows (``Call Connie Becker at``, ``Employee Troy Davenport``, ``belongs
to Christina Young``) or when the name opens a clause and a verb of saying follows
(``Megan Mcgee asked``). This rule reports two or three capitalized words in exactly
those places, unless one of them is a word that capitalized business text is full of
(Customer Service, Help Desk, Black Friday, Q3 Planning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.redaction.findings import Finding

PERSON = "PERSON"
CUE_SCORE = 0.6

_BEFORE = (
    "this is", "my name is", "name is", "i am", "i'm", "mr.", "mrs.", "ms.", "mr", "mrs",
    "ms", "miss", "dr.", "dr", "prof.", "dear", "hi", "hello", "call", "email", "e-mail",
    "ask", "tell", "remind", "contact", "notify", "employee", "customer", "client",
    "patient", "cardholder", "payer is", "payee is", "belongs to", "attention", "attn:",
    "signed by", "application of", "add", "invite", "cc:", "from:", "to:", "name:",
    "colleague", "manager", "assigned to", "on behalf of", "account holder",
)  # fmt: skip
_AFTER = (
    "asked", "said", "says", "wrote", "called", "replied", "emailed", "confirmed", "signed",
    "requested", "reported", "complained", "agreed", "told", "is the cardholder",
)  # fmt: skip
NOT_NAME_WORDS = frozenset(
    (
        "Customer", "Customers", "Service", "Services", "Support", "Team", "Teams", "Desk", "Help",
        "Center", "Centre", "Manager", "Department", "Office", "Group", "Inc", "Ltd", "Llc", "Corp",
        "Company", "Bank", "University", "Hospital", "School", "Street", "Avenue", "Road", "Monday",
        "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February",
        "March", "April", "May", "June", "July", "August", "September", "October", "November",
        "December", "Project", "Account", "Client", "Sales", "Marketing", "Finance", "Legal",
        "Security", "Admin", "Operations", "Engineering", "Product", "Black", "Planning",
        "Forecast", "Report", "Review", "Meeting", "Room", "Building", "Floor", "Board",
        "Committee", "Director", "President", "Officer", "Agent", "Staff", "Member", "Members",
        "User", "Users", "Admin", "Administrator", "The", "This", "That", "These", "Those", "Our",
        "Your", "Their", "My", "His", "Her", "Its", "Please", "Thanks", "Thank", "Dear", "Hello",
        "Hi", "Call", "Email", "Mail", "Ask", "Tell", "Add", "Contact", "Notify", "Invite", "New",
        "Old", "North", "South", "East", "West", "Court", "Services", "Insurance", "Global",
        "International", "National", "Group", "Holdings", "Partners", "Systems", "Solutions",
        "Technologies", "Labs", "Studio", "Store", "Shop", "Market", "Airport", "Station", "Park",
        "Lake", "River",
    )
)  # fmt: skip
"""Capitalized words that make two or three capitalized words something other than a name."""

_WORD = r"[A-Z](?:[a-z]+|(?=['\u2019]))(?:['\u2019-][A-Z]?[a-z]+)*"
"""A capitalized word, apostrophes and hyphens included (``O'Brien-Smith``, ``Jean-Luc``)."""
_NAME = rf"(?P<name>{_WORD}(?: (?:[A-Z]\. )?{_WORD}){{1,2}})"


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_AFTER_CUE = re.compile(rf"(?i:(?<![A-Za-z])(?:{_alternation(_BEFORE)})):? (?-i:{_NAME})")
_BEFORE_VERB = re.compile(
    rf"(?:^|(?<=[.!?;:\n] )|(?<=\n)){_NAME} (?:{_alternation(_AFTER)})(?![A-Za-z])"
)


@dataclass(frozen=True, slots=True)
class EnglishNameRule:
    """``PERSON``: capitalized words right after a person cue, or before a verb of saying."""

    entity_type: str = PERSON

    def find(self, text: str, lowered: str) -> list[Finding]:
        spans = {
            match.span("name"): None
            for pattern in (_AFTER_CUE, _BEFORE_VERB)
            for match in pattern.finditer(text)
            if not any(word in NOT_NAME_WORDS for word in match.group("name").split())
        }
        return [Finding(PERSON, start, end, CUE_SCORE) for start, end in spans]
