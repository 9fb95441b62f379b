"""The shape of a policy file. Unknown fields are refused; every number has a floor.

A file may name a parent with ``extends``; the loader merges the parent's sections under
the child's (mappings merge key by key, lists and scalars are replaced) and then checks
the result against ``PolicyFile``, so every department's resolved policy is complete.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
Score = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
PolicyName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63)]
ModelPattern = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
ParameterName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
EntityName = Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]
ContextWord = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
RetentionDays = Annotated[int, msgspec.Meta(ge=1, le=36_500)]
LogprobCount = Annotated[int, msgspec.Meta(ge=0, le=20)]
CacheTtl = Annotated[int, msgspec.Meta(ge=1, le=86_400)]

MAX_REGEX_LENGTH = 512
Regex = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REGEX_LENGTH)]

PiiAction = Literal["redact", "pseudonymize", "block", "allow"]
PiiDirection = Literal["input", "output", "both"]
AuditContent = Literal["none", "redacted", "full"]


class RequestLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Caps on one request; a request over any of them is refused with 400."""

    max_tokens: PositiveInt
    """Most completion tokens a request may ask for; also the cap when it asks for none."""
    max_prompt_chars: PositiveInt
    """Most characters across all messages (or the prompt)."""
    max_prompt_tokens: PositiveInt
    """Most prompt tokens, checked once the prompt is tokenized."""
    max_messages: PositiveInt
    """Most messages in one chat request."""
    max_n: PositiveInt
    """Most choices (``n``) one request may ask for."""
    max_logprobs: LogprobCount = 20
    """Most alternatives per token a request may ask for (``top_logprobs`` in chat,
    ``logprobs`` in completions); 0 allows token logprobs without alternatives."""
    allowed_parameters: tuple[ParameterName, ...]
    """Optional request parameters a caller may send (``"*"`` for all); ``model``,
    ``messages`` and ``prompt`` are always allowed."""


class RateQuota(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Rate limits for one scope (a tenant, or a whole department)."""

    requests_per_minute: PositiveInt
    tokens_per_minute: PositiveInt
    """Prompt plus completion tokens per minute."""
    concurrent_requests: PositiveInt
    """Requests in flight at the same time."""
    burst: PositiveInt
    """Most requests started within any one second, so a minute is not spent in an instant."""


class RateLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    per_tenant: RateQuota
    """What each tenant of the department may spend."""
    per_department: RateQuota
    """What all tenants of the department may spend together."""


class EntityRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What to do with one kind of personal data when it is found."""

    action: PiiAction
    direction: PiiDirection = "both"
    """``input`` (prompts), ``output`` (completions) or ``both``."""
    score_threshold: Score | None = None
    """Overrides ``pii.score_threshold`` for this entity."""


class RecognizerPattern(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    regex: Regex
    """Python regular expression; nested quantifiers and backreferences are refused."""
    score: Score = 0.5
    """Confidence of a bare match; context words nearby raise it."""


class CustomRecognizer(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A pattern for an entity Presidio does not know (an employee ID, a project code)."""

    patterns: Annotated[tuple[RecognizerPattern, ...], msgspec.Meta(min_length=1, max_length=16)]
    context: tuple[ContextWord, ...] = ()
    """Words that make a nearby match more likely to be the entity."""


class PiiPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    score_threshold: Score
    """Findings scored below this are ignored."""
    entities: dict[EntityName, EntityRule]
    """Entity type → rule. Entities not listed are not looked for."""
    recognizers: dict[EntityName, CustomRecognizer] = msgspec.field(default_factory=dict)
    """Entity type → how to find it, for entity types beyond Presidio's own."""


class AuditPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    content: AuditContent
    """``none`` (metadata only), ``redacted`` (after PII handling), ``full`` (encrypted)."""
    retention_days: RetentionDays


class CachePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The response cache: deterministic requests (temperature 0 or a seed) answered again
    from a stored answer instead of the engine. Off unless a policy turns it on."""

    enabled: bool = False
    ttl_seconds: CacheTtl = 300
    """How long a stored answer is served (at most a day)."""
    max_entries: PositiveInt = 1000
    """Most answers kept per tenant; the least recently used go first."""


class PolicyFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One YAML file after its ``extends`` chain is merged in."""

    extends: PolicyName | None = None
    description: str = ""
    models: tuple[ModelPattern, ...]
    """Model names this department may use; shell-style patterns, ``"*"`` for any."""
    limits: RequestLimits
    rate_limits: RateLimits
    pii: PiiPolicy
    audit: AuditPolicy
    cache: CachePolicy = msgspec.field(default_factory=CachePolicy)


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """The resolved policy of one department, ready for ``evaluate``."""

    name: str
    """The file's stem, which is also the department it applies to."""
    source: str
    """The file it was read from."""
    extends_chain: tuple[str, ...]
    """Parents in order (``("default",)``); empty when the file extends nothing."""
    description: str
    models: tuple[str, ...]
    limits: RequestLimits
    rate_limits: RateLimits
    pii: PiiPolicy
    audit: AuditPolicy
    cache: CachePolicy = msgspec.field(default_factory=CachePolicy)
