"""The cache key: one answer per exact engine input, tenant and sampling; never shared wider."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine.protocol import SamplingSpec
from gateway.cache.key import CacheRequest, cache_key, is_deterministic
from gateway.policy.schema import EntityRule, PiiPolicy

PII = PiiPolicy(score_threshold=0.5, entities={"EMAIL_ADDRESS": EntityRule(action="redact")})
BASE = CacheRequest(
    tenant="acme",
    route="/v1/chat/completions",
    model="smollm2",
    prompt_token_ids=[1, 2, 3],
    sampling=SamplingSpec(max_tokens=16, temperature=0.0),
    pii=PII,
)

OTHER_SAMPLING_VALUES: dict[str, Any] = {
    "max_tokens": 17,
    "temperature": 0.5,
    "top_p": 0.9,
    "n": 2,
    "stop": ("\n",),
    "seed": 7,
    "presence_penalty": 0.1,
    "frequency_penalty": 0.1,
    "logprobs": 2,
    "ignore_eos": True,
}


def test_the_same_request_has_the_same_key() -> None:
    copy = dataclasses.replace(BASE, prompt_token_ids=(1, 2, 3))
    assert cache_key(copy) == cache_key(BASE)
    assert len(cache_key(BASE)) == 64


def test_every_sampling_field_is_part_of_the_key() -> None:
    fields = {field.name for field in dataclasses.fields(SamplingSpec)}
    assert fields == set(OTHER_SAMPLING_VALUES), "a new SamplingSpec field needs a case here"
    keys = {cache_key(BASE)}
    for name, value in OTHER_SAMPLING_VALUES.items():
        sampling = dataclasses.replace(BASE.sampling, **{name: value})
        keys.add(cache_key(dataclasses.replace(BASE, sampling=sampling)))
    assert len(keys) == 1 + len(OTHER_SAMPLING_VALUES)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenant", "globex"),
        ("route", "/v1/completions"),
        ("model", "other-model"),
        ("prompt_token_ids", [1, 2, 4]),
        ("prompt_token_ids", [1, 2]),
        ("pii", PiiPolicy(score_threshold=0.4, entities=PII.entities)),
        ("pii", PiiPolicy(score_threshold=0.5, entities={})),
    ],
)
def test_tenant_route_model_prompt_and_pii_rules_change_the_key(field: str, value: object) -> None:
    assert cache_key(dataclasses.replace(BASE, **{field: value})) != cache_key(BASE)


def test_tenant_names_cannot_be_shifted_into_the_prompt() -> None:
    shifted = dataclasses.replace(BASE, tenant="acme1", prompt_token_ids=[2, 3])
    assert cache_key(shifted) != cache_key(BASE)


@pytest.mark.parametrize(
    ("sampling", "deterministic"),
    [
        (SamplingSpec(temperature=0.0), True),
        (SamplingSpec(temperature=0.0, n=3), True),
        (SamplingSpec(temperature=1.0, seed=7), True),
        (SamplingSpec(temperature=0.8, seed=0, n=2), True),
        (SamplingSpec(temperature=1.0), False),
        (SamplingSpec(temperature=0.01, n=2), False),
    ],
)
def test_only_greedy_or_seeded_requests_are_deterministic(
    sampling: SamplingSpec, deterministic: bool
) -> None:
    assert is_deterministic(sampling) is deterministic
