"""``ResponseCache``: what it stores for a miss, what a hit plays back, and store outages."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client import CollectorRegistry

from engine.protocol import Delta, GenerationStep, SamplingSpec, TokenLogprob
from gateway.cache.gate import CACHE_HEADER, MAX_ENTRY_BYTES, OUTAGE_PAUSE_SECONDS, ResponseCache
from gateway.cache.key import CacheRequest
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.replay import Replay
from gateway.cache.store import CacheStoreError
from gateway.policy.schema import CachePolicy, PiiPolicy
from gateway.redaction.pseudonyms import PseudonymTable
from tests.unit.ratelimit.clock import FakeClock

pytestmark = pytest.mark.anyio

ON = CachePolicy(enabled=True, ttl_seconds=60, max_entries=10)
GREEDY = CacheRequest(
    tenant="acme",
    route="/v1/chat/completions",
    model="m",
    prompt_token_ids=[1, 2],
    sampling=SamplingSpec(max_tokens=8, temperature=0.0),
    pii=PiiPolicy(score_threshold=0.5, entities={}),
)


@dataclasses.dataclass
class Screened:
    """What an output filter leaves for the audit: redacted, placeholders in place."""

    redacted_text: str
    entity_counts: dict[str, int] = dataclasses.field(default_factory=dict)


class BrokenStore:
    description = "redis://broken:6379"

    def __init__(self) -> None:
        self.calls = 0

    async def get(self, tenant: str, key: str) -> bytes | None:
        self.calls += 1
        raise CacheStoreError("ConnectionError")

    async def put(
        self, tenant: str, key: str, value: bytes, *, ttl_seconds: int, max_entries: int
    ) -> None:
        self.calls += 1
        raise CacheStoreError("ConnectionError")

    async def close(self) -> None:
        pass


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def cache(registry: CollectorRegistry) -> ResponseCache:
    return ResponseCache(MemoryCacheStore(max_entries=100), registry)


def lookups(registry: CollectorRegistry, result: str) -> float:
    labels = {"result": result, "department": "eng"}
    return registry.get_sample_value("enclave_cache_requests_total", labels) or 0.0


def step(text: str, tokens: int, finish: str | None, *, logprob: float = -0.5) -> GenerationStep:
    delta = Delta(
        index=0,
        text=text,
        completion_tokens=tokens,
        finish_reason=finish,  # type: ignore[arg-type]
        logprobs=(TokenLogprob(token=text, logprob=logprob, top=(("x", -1.0),)),),
    )
    return GenerationStep(prompt_tokens=2, deltas=(delta,))


async def answer_a_miss(cache: ResponseCache, stored_text: str) -> None:
    lookup = await cache.look_up_request(GREEDY, ON, "eng")
    assert lookup.outcome == "miss"
    recorder = cache.recorder(lookup, n=1)
    recorder.observe(step("Hello ", 1, None))
    recorder.observe(step("<PERSON_1>", 2, "stop"))
    await cache.store(lookup, recorder, [Screened(stored_text, {"PERSON": 1})])


async def test_a_stored_miss_is_the_next_requests_hit(
    cache: ResponseCache, registry: CollectorRegistry
) -> None:
    await answer_a_miss(cache, "Hello <PERSON_1>")
    lookup = await cache.look_up_request(GREEDY, ON, "eng")
    assert lookup.outcome == "hit"
    assert lookup.headers == {CACHE_HEADER: "hit"}
    assert lookup.hit is not None
    choice = lookup.hit.choices[0]
    assert (choice.text, choice.completion_tokens, choice.finish_reason) == (
        "Hello <PERSON_1>",
        2,
        "stop",
    )
    assert [entry.logprob for entry in choice.logprobs] == [-0.5, -0.5]
    assert choice.entity_counts == {"PERSON": 1}
    assert lookup.hit.prompt_tokens == 2
    assert (lookups(registry, "miss"), lookups(registry, "hit")) == (1, 1)


async def test_a_hit_restores_this_requests_pseudonyms_only_on_the_way_out(
    cache: ResponseCache,
) -> None:
    await answer_a_miss(cache, "Hello <PERSON_1>")
    lookup = await cache.look_up_request(GREEDY, ON, "eng")
    assert lookup.hit is not None
    pseudonyms = PseudonymTable()
    pseudonyms.placeholder_for("PERSON", "Bob Jones")
    replay = Replay(lookup.hit, pseudonyms)
    delivered = [await replay.restore(replayed) async for replayed in replay.steps()]
    assert [delta.text for s in delivered for delta in s.deltas] == ["Hello Bob Jones"]
    assert delivered[0].deltas[0].finish_reason == "stop"
    assert [output.redacted_text for output in replay.outputs] == ["Hello <PERSON_1>"]


async def test_policy_off_and_sampled_requests_never_touch_the_store(
    registry: CollectorRegistry,
) -> None:
    store = BrokenStore()
    cache = ResponseCache(store, registry)
    off = await cache.look_up_request(GREEDY, CachePolicy(), "eng")
    assert (off.outcome, off.headers) == (None, {})
    sampled = dataclasses.replace(GREEDY, sampling=SamplingSpec(temperature=0.7))
    bypass = await cache.look_up_request(sampled, ON, "eng")
    assert (bypass.outcome, bypass.audit_marker) == ("bypass", None)
    assert bypass.headers == {CACHE_HEADER: "bypass"}
    recorder = cache.recorder(bypass, n=1)
    recorder.observe(step("x", 1, "stop"))
    await cache.store(bypass, recorder, [Screened("x")])
    assert store.calls == 0


async def test_an_unfinished_answer_is_not_stored(cache: ResponseCache) -> None:
    lookup = await cache.look_up_request(GREEDY, ON, "eng")
    recorder = cache.recorder(lookup, n=1)
    recorder.observe(step("Hel", 1, None))
    await cache.store(lookup, recorder, [Screened("Hel")])
    recorder.observe(step("lo", 2, "abort"))
    await cache.store(lookup, recorder, [Screened("Hello")])
    assert (await cache.look_up_request(GREEDY, ON, "eng")).outcome == "miss"


async def test_an_answer_too_large_to_store_is_skipped(
    cache: ResponseCache, registry: CollectorRegistry
) -> None:
    lookup = await cache.look_up_request(GREEDY, ON, "eng")
    recorder = cache.recorder(lookup, n=1)
    recorder.observe(step("x", 1, "length"))
    await cache.store(lookup, recorder, [Screened("x" * MAX_ENTRY_BYTES)])
    assert (await cache.look_up_request(GREEDY, ON, "eng")).outcome == "miss"
    skipped = registry.get_sample_value("enclave_cache_writes_total", {"result": "skipped"})
    assert skipped == 1


async def test_a_store_outage_is_a_miss_and_pauses_the_store(registry: CollectorRegistry) -> None:
    store, clock = BrokenStore(), FakeClock()
    cache = ResponseCache(store, registry, clock=clock)
    first = await cache.look_up_request(GREEDY, ON, "eng")
    assert (first.outcome, first.headers) == ("miss", {CACHE_HEADER: "miss"})
    recorder = cache.recorder(first, n=1)
    recorder.observe(step("x", 1, "stop"))
    await cache.store(first, recorder, [Screened("x")])
    assert store.calls == 1, "within the pause the store is not asked again"
    clock.advance(OUTAGE_PAUSE_SECONDS)
    await cache.look_up_request(GREEDY, ON, "eng")
    assert store.calls == 2
    assert lookups(registry, "store_error") == 2
    failed = registry.get_sample_value("enclave_cache_writes_total", {"result": "store_error"})
    assert failed == 1
