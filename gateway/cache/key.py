"""Which requests the cache may answer, and the key their answer is stored under.

A request is deterministic when its temperature is 0 (greedy decoding: every choice is the
same) or it carries a ``seed`` (the engine's sampling is repeatable). Anything else would
turn a sampled answer into a fixed one, so it is never cached.

The key is SHA-256 over canonical JSON of everything the stored answer depends on: the
tenant (so one tenant never reads another's answers), route, model, the prompt token ids
the engine is given (after input redaction: the raw prompt is never part of it), every
field of ``SamplingSpec`` (a new field joins the key by itself), and the department's PII
rules (the stored text is the output after redaction, so other output rules need other
entries).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from engine.protocol import SamplingSpec
from gateway.cache.entry import ENTRY_FORMAT
from gateway.policy.schema import PiiPolicy


@dataclass(frozen=True, slots=True)
class CacheRequest:
    """What an answer depends on, as the pipeline planned it for the engine."""

    tenant: str
    route: str
    model: str
    prompt_token_ids: Sequence[int]
    sampling: SamplingSpec
    pii: PiiPolicy


def is_deterministic(sampling: SamplingSpec) -> bool:
    """Whether the same request always gets the same answer from the engine."""
    return sampling.temperature == 0 or sampling.seed is not None


def cache_key(request: CacheRequest) -> str:
    """Hex SHA-256 naming the answer to ``request``."""
    material = {
        "format": ENTRY_FORMAT,
        "tenant": request.tenant,
        "route": request.route,
        "model": request.model,
        "prompt": list(request.prompt_token_ids),
        "sampling": dataclasses.asdict(request.sampling),
        "pii": msgspec.to_builtins(request.pii),
    }
    canonical = msgspec.json.encode(material, order="sorted")
    return hashlib.sha256(canonical).hexdigest()
