"""The prompts every system gets: short and long, in the tiny model's vocabulary, with some PII.

Each prompt carries an e-mail address and a phone number, so that the PII policy of the
"PII on" runs finds and redacts something in every request (as a real screen would).
"""

from __future__ import annotations

from engine.tiny_model import corpus

PROMPT_VARIANTS = 16
SHORT_CHARS = 160
LONG_CHARS = 2000
CONTACTS = (
    "Please write to maria.gonzalez@example.com or call +1 212-555-0123 about this. ",
    "Reply to ops-team@example.org or ring +44 20 7946 0958 before the audit. ",
)


def _sentences() -> list[str]:
    return [line for line in corpus() if line.strip()]


def prompt_set(chars: int, variants: int = PROMPT_VARIANTS) -> tuple[str, ...]:
    """``variants`` different prompts of about ``chars`` characters each."""
    sentences = _sentences()
    prompts = []
    for variant in range(variants):
        text = CONTACTS[variant % len(CONTACTS)]
        index = variant * 37
        while len(text) < chars:
            text += sentences[index % len(sentences)] + " "
            index += 1
        prompts.append(text[:chars].rsplit(" ", 1)[0] + " Summarise this.")
    return tuple(prompts)


PROMPTS = {"short": prompt_set(SHORT_CHARS), "long": prompt_set(LONG_CHARS)}
