"""The gateway's own recognizers: plain regexes, checks and context words, without Presidio.

They cover the types most policies ask for (e-mail, phone, card, IBAN, SSN, IP, Chinese
mobile and resident ID) plus Chinese names and addresses, US street addresses and English
names announced by the words around them, and they work next to Chinese characters.
``RuleSet.find`` runs the ones a plan needs, in well under a millisecond per thousand
characters; Presidio and spaCy are left for the
types only a statistical model or a country-specific recognizer can find.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from gateway.redaction.findings import Finding
from gateway.redaction.rules.addresses import ChineseAddressRule, UsAddressRule
from gateway.redaction.rules.base import Rule
from gateway.redaction.rules.cn_names import ChineseNameRule
from gateway.redaction.rules.en_names import EnglishNameRule
from gateway.redaction.rules.identifiers import identifier_rules
from gateway.redaction.rules.network import network_rules
from gateway.redaction.rules.payment import payment_rules
from gateway.redaction.rules.phones import phone_rules

PATTERN_ENTITIES = frozenset(
    {
        "EMAIL_ADDRESS", "IP_ADDRESS", "PHONE_NUMBER", "CN_MOBILE", "CREDIT_CARD",
        "IBAN_CODE", "US_SSN", "CN_RESIDENT_ID",
    }
)  # fmt: skip
"""Types found by these rules alone (Presidio's recognizers for them are not run)."""


def default_rules() -> list[Rule]:
    """A fresh instance of every rule."""
    return [
        *network_rules(),
        *phone_rules(),
        *payment_rules(),
        *identifier_rules(),
        ChineseNameRule(),
        EnglishNameRule(),
        ChineseAddressRule(),
        UsAddressRule(),
    ]


class RuleSet:
    """The rules, by entity type."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        by_type: dict[str, list[Rule]] = {}
        for rule in rules:
            by_type.setdefault(rule.entity_type, []).append(rule)
        self._by_type: Mapping[str, tuple[Rule, ...]] = {
            entity: tuple(found) for entity, found in by_type.items()
        }

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(self._by_type)

    def find(self, text: str, entities: Collection[str]) -> list[Finding]:
        """Findings of ``entities`` (types without a rule are skipped), any score."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters change length when lower-cased
            lowered = "".join(character.lower()[0] for character in text)
        findings: list[Finding] = []
        for entity in entities:
            for rule in self._by_type.get(entity, ()):
                findings.extend(rule.find(text, lowered))
        return findings


__all__ = ["PATTERN_ENTITIES", "RuleSet", "default_rules"]
