"""Personal data in prompts and completions: find it (Presidio), then redact, pseudonymize,
block or allow it per the department's policy.

Importing this package does not import Presidio; ``PiiAnalyzer.build`` does, after making
sure nothing it uses will reach the network.
"""

from gateway.redaction.analyzer import DEFAULT_NLP_MODEL, PiiAnalyzer
from gateway.redaction.errors import PiiAnalyzerUnavailableError, PiiBlockedError
from gateway.redaction.input_redaction import InputRedaction
from gateway.redaction.pseudonyms import PseudonymTable
from gateway.redaction.stream import OutputFilter, StreamWindow

__all__ = [
    "DEFAULT_NLP_MODEL",
    "InputRedaction",
    "OutputFilter",
    "PiiAnalyzer",
    "PiiAnalyzerUnavailableError",
    "PiiBlockedError",
    "PseudonymTable",
    "StreamWindow",
]
