"""Names a policy may use: PII entity types and OpenAI request parameters."""

from __future__ import annotations

from typing import Final

import msgspec

from gateway.wire.requests import ChatCompletionRequest, CompletionRequest

PRESIDIO_ENTITIES: Final = frozenset(
    {
        # Global recognizers shipped with Presidio.
        "CREDIT_CARD", "CRYPTO", "DATE_TIME", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS",
        "LOCATION", "MEDICAL_LICENSE", "NRP", "ORGANIZATION", "PERSON", "PHONE_NUMBER", "URL",
        # Country-specific recognizers shipped with Presidio.
        "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "US_PASSPORT", "US_SSN",
        "UK_NHS", "UK_NINO", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "IT_DRIVER_LICENSE",
        "IT_VAT_CODE", "IT_PASSPORT", "IT_IDENTITY_CARD", "PL_PESEL", "SG_NRIC_FIN", "SG_UEN",
        "AU_ABN", "AU_ACN", "AU_TFN", "AU_MEDICARE", "IN_PAN", "IN_AADHAAR",
        "IN_VEHICLE_REGISTRATION", "IN_VOTER", "IN_PASSPORT", "FI_PERSONAL_IDENTITY_CODE",
    }
)  # fmt: skip
"""Entity types Presidio's predefined recognizers report."""

GATEWAY_ENTITIES: Final = frozenset({"CN_MOBILE", "CN_RESIDENT_ID"})
"""Entity types the gateway's own recognizers report (``gateway/redaction``)."""

KNOWN_ENTITIES: Final = PRESIDIO_ENTITIES | GATEWAY_ENTITIES
"""Entity types a policy may name without defining a recognizer for them."""

ALWAYS_ALLOWED_PARAMETERS: Final = frozenset({"model", "messages", "prompt"})
"""Request fields every request needs; ``limits.allowed_parameters`` need not list them."""

ANY_PARAMETER: Final = "*"


def _request_fields() -> frozenset[str]:
    return frozenset(
        info.encode_name
        for request_type in (ChatCompletionRequest, CompletionRequest)
        for info in msgspec.structs.fields(request_type)
    )


KNOWN_PARAMETERS: Final = _request_fields()
"""Every field the OpenAI-compatible endpoints accept (``gateway/wire/requests.py``)."""
