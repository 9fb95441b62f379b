"""IBANs, including the ones followed by words that Presidio's recognizer gives up on.

Presidio matches case-insensitively and lets the last groups run on into the next word,
so ``BE68539007547034 please`` becomes one candidate whose every prefix it tries ends
inside "plea"; the checksum fails and the IBAN is missed. Here a candidate is cut only
where the text has a boundary (a space, a dash, punctuation or the end), longest first,
and the first cut that passes the country format and the mod-97 check is the IBAN.
"""

from __future__ import annotations

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers.generic.iban_patterns import regex_per_country

from gateway.redaction.recognizers.checksums import iban_valid

IBAN_CODE = "IBAN_CODE"
_NAME = "GatewayIbanRecognizer"

_CANDIDATE = regex.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,32}")
_SEPARATORS = str.maketrans("", "", " -")
_MIN_LENGTH, _MAX_LENGTH = 15, 34
CONTEXT = ("iban", "bank", "account", "transfer", "transaction", "sepa")


class GatewayIbanRecognizer(EntityRecognizer):
    """IBANs written compact or in groups, in any letter case, whatever follows them.

    Not named ``IbanRecognizer``: Presidio finds its predefined recognizers by class name.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[IBAN_CODE],
            name=_NAME,
            context=list(CONTEXT),
        )

    def load(self) -> None:
        """Nothing to load: the check is arithmetic."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        position = 0
        while (candidate := _CANDIDATE.search(text, position)) is not None:
            end = _longest_valid_end(text, candidate.start(), candidate.end())
            if end is None:
                position = candidate.start() + 1
                continue
            results.append(self._result(candidate.start(), end))
            position = end
        return results

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type=IBAN_CODE,
            start=start,
            end=end,
            score=EntityRecognizer.MAX_SCORE,
            analysis_explanation=AnalysisExplanation(
                recognizer=_NAME,
                original_score=EntityRecognizer.MAX_SCORE,
                textual_explanation="country format and mod-97 check digits",
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: _NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


def _longest_valid_end(text: str, start: int, stop: int) -> int | None:
    """The end of the longest IBAN starting at ``start`` and ending at a boundary."""
    for end in range(stop, start + _MIN_LENGTH - 1, -1):
        if _inside_word(text, end) or not text[end - 1].isalnum():
            continue
        if _is_iban(text[start:end]):
            return end
    return None


def _inside_word(text: str, position: int) -> bool:
    """Whether a cut at ``position`` splits a run of letters and digits in two."""
    return position < len(text) and text[position].isascii() and text[position].isalnum()


def _is_iban(written: str) -> bool:
    compact = written.translate(_SEPARATORS).upper()
    if not _MIN_LENGTH <= len(compact) <= _MAX_LENGTH:
        return False
    country_format = regex_per_country.get(compact[:2])
    if country_format is None or regex.fullmatch(country_format, compact) is None:
        return False
    return iban_valid(compact)
