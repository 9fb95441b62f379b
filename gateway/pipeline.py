"""The request path in one place: each gate in order, then the engine.

Handlers decode the body, call ``plan_*`` and then ``generate``; rendering stays in the API layer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from litestar.types import Scope

from engine.protocol import (
    ChatMessage,
    Engine,
    EngineError,
    GenerationStep,
    ModelInfo,
    Prompt,
    PromptRenderError,
)
from gateway.audit.request import RequestAudit
from gateway.audit_gate import AuditGate
from gateway.auth.principal import Principal
from gateway.cache.gate import ResponseCache
from gateway.cache.replay import Replay
from gateway.errors import (
    EngineUnavailableError,
    GatewayError,
    InvalidRequestError,
    ModelNotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
)
from gateway.generation_plan import GenerationPlan, PreparedRequest, build_plan
from gateway.metrics.registry import GatewayMetrics
from gateway.pii_gate import PiiGate, refuse_logprobs_under_output_rules
from gateway.policy.decision import Decision
from gateway.policy.evaluate import evaluate
from gateway.policy.request import policy_request_for_chat, policy_request_for_completion
from gateway.policy.store import PolicyStore
from gateway.ratelimit.admission import Admission
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.scopes import quota_scopes
from gateway.redaction.screened import ScreenedOutput
from gateway.redaction.stream import OutputFilter
from gateway.shutdown import Drain
from gateway.timings import RequestTimings, timings_of
from gateway.usage import UsageTally
from gateway.wire.requests import ChatCompletionRequest, CompletionRequest

CLIENT_GONE = 499
"""Status recorded when the client left before the answer was complete."""
CHAT_ROUTE = "/v1/chat/completions"
COMPLETION_ROUTE = "/v1/completions"
KEEP_ALIVE_SECONDS = 30.0
"""How often a long stream pushes its concurrency slot's expiry further."""


class Pipeline:
    """The gates after authentication, in order: model, policy, prompt, engine."""

    _drain: Drain | None = None

    def __init__(
        self,
        engine: Engine,
        policies: PolicyStore,
        limiter: RateLimiter,
        metrics: GatewayMetrics,
        pii: PiiGate,
        audit: AuditGate,
        cache: ResponseCache,
    ) -> None:
        self._engine = engine
        self._policies = policies
        self._limiter = limiter
        self._metrics = metrics
        self._pii = pii
        self._audit = audit
        self._cache = cache

    async def plan_chat(
        self, request_id: str, principal: Principal, request: ChatCompletionRequest
    ) -> GenerationPlan:
        model = self._find_model(request.model)
        if request.top_logprobs is not None and not request.logprobs:
            raise InvalidRequestError(
                "top_logprobs requires logprobs to be true", param="top_logprobs"
            )
        policies = self._policies.current
        decision = _enforce(evaluate(policies, principal, policy_request_for_chat(request)))
        if request.logprobs:
            refuse_logprobs_under_output_rules(decision.pii)
        texts = [message.text() for message in request.messages]
        if not any(text.strip() for text in texts):
            raise InvalidRequestError("every message is empty; send some text", param="messages")
        redaction = await self._pii.redact_prompt(texts, decision.pii)
        messages = tuple(
            ChatMessage(role=_engine_role(message.role), content=text)
            for message, text in zip(request.messages, redaction.texts, strict=True)
        )
        prompt_ids = self._tokenize(Prompt(messages=messages))
        measured = policy_request_for_chat(request, prompt_tokens=len(prompt_ids))
        decision = _enforce(evaluate(policies, principal, measured))
        logprobs = (request.top_logprobs or 0) if request.logprobs else None
        prepared = PreparedRequest(
            request_id, CHAT_ROUTE, principal, decision, model, prompt_ids, redaction, tuple(texts)
        )
        return await self._look_up_cache(build_plan(prepared, request, logprobs))

    async def plan_completion(
        self, request_id: str, principal: Principal, request: CompletionRequest
    ) -> GenerationPlan:
        model = self._find_model(request.model)
        prompt = _single_prompt(request.prompt)
        policies = self._policies.current
        decision = _enforce(evaluate(policies, principal, policy_request_for_completion(request)))
        if request.logprobs is not None:
            refuse_logprobs_under_output_rules(decision.pii)
        redaction = await self._pii.redact_prompt([prompt], decision.pii)
        prompt_ids = self._tokenize(Prompt(text=redaction.texts[0]))
        measured = policy_request_for_completion(request, prompt_tokens=len(prompt_ids))
        decision = _enforce(evaluate(policies, principal, measured))
        prepared = PreparedRequest(
            request_id,
            COMPLETION_ROUTE,
            principal,
            decision,
            model,
            prompt_ids,
            redaction,
            (prompt,),
        )
        return await self._look_up_cache(build_plan(prepared, request, request.logprobs))

    def models(self) -> Sequence[ModelInfo]:
        return self._engine.models()

    def end_requests_on(self, drain: Drain) -> None:
        """Once ``drain``'s grace period is over, requests still generating end with a 503
        (in-band for streams) at their next engine step."""
        self._drain = drain

    async def admit(self, plan: GenerationPlan) -> Admission:
        """Reserve the request, its estimated tokens and a concurrency slot (429 when over)."""
        scopes = quota_scopes(plan.principal, plan.decision.rate_limits)
        sampling = plan.sampling
        estimate = len(plan.prompt_token_ids) + (sampling.max_tokens or 0) * sampling.n
        try:
            return await self._limiter.admit(plan.request_id, scopes, estimate)
        except RateLimitedError as refusal:
            self._metrics.count_rate_limit_refusal(refusal.limit_kind)
            raise
        except ServiceUnavailableError:
            self._metrics.count_rate_limit_refusal("store_unavailable")
            raise

    def audit_record(self, scope: Scope, plan: GenerationPlan) -> RequestAudit:
        return self._audit.record_for(scope, plan.route, plan.principal, plan.model)

    async def record_start(
        self, plan: GenerationPlan, record: RequestAudit, admission: Admission, scope: Scope
    ) -> None:
        """The durable "started" record; without it nothing reaches the engine (503)."""
        try:
            await self._audit.started(
                record,
                level=plan.decision.audit.content,
                redacted=plan.redaction.texts,
                original=plan.prompt_texts,
                entity_counts=dict(plan.redaction.entity_counts),
                prompt_tokens=len(plan.prompt_token_ids),
                timings=timings_of(scope),
                scope=scope,
            )
        except BaseException:
            await admission.settle(0)
            await admission.release()
            raise

    async def generate(
        self,
        plan: GenerationPlan,
        admission: Admission,
        timings: RequestTimings,
        record: RequestAudit,
    ) -> AsyncGenerator[GenerationStep, None]:
        """Stream the answer's steps (the engine's, or a cached answer's), then settle the
        tokens really used and free the slot; a finished miss is offered to the cache.

        Engine failures become 503s; closing the stream early aborts the engine request.
        """
        tally = UsageTally(prompt_tokens=len(plan.prompt_token_ids))
        source = self._answer_source(plan, timings)
        recorder = self._cache.recorder(plan.cache, plan.sampling.n)
        delivered: list[str] = []
        failure: tuple[int, str] | None = (CLIENT_GONE, "client_disconnected")
        async with admission, contextlib.aclosing(source.steps):  # type: ignore[type-var]
            try:
                async for step in source.steps:
                    if self._drain is not None:
                        self._drain.check()
                    if timings.first_token is None:
                        timings.first_token = time.perf_counter()
                    tally.observe(step)
                    recorder.observe(step)
                    if tally.due_for_keep_alive(KEEP_ALIVE_SECONDS):
                        await admission.keep_alive()
                    screened = await source.screen(step)
                    delivered.extend(delta.text for delta in screened.deltas)
                    yield screened
                await self._cache.store(plan.cache, recorder, source.outputs)
                failure = None
            except EngineError as exc:
                failure = (503, "engine_error")
                raise EngineUnavailableError("the inference engine failed; try again") from exc
            except GatewayError as exc:
                failure = (exc.status_code, exc.code or exc.error_type)
                raise
            finally:
                if self._drain is not None:
                    failure = self._drain.explain(failure)
                timings.engine_finished = time.perf_counter()
                await admission.settle(tally.total_tokens())
                self._pii.count_output(source.engine_filters, plan.decision.pii)
                self._account(plan, tally, timings)
                await self._audit.finished(
                    record,
                    level=plan.decision.audit.content,
                    tally=tally,
                    filters=source.outputs,
                    delivered="".join(delivered),
                    timings=timings,
                    failure=failure,
                    cache=plan.cache.audit_marker,
                )

    def _answer_source(self, plan: GenerationPlan, timings: RequestTimings) -> _AnswerSource:
        """A cached answer with pseudonyms restored, or the engine's screened by output rules."""
        pseudonyms = plan.redaction.pseudonyms
        if plan.cache.hit is not None:
            replay = Replay(plan.cache.hit, pseudonyms)
            return _AnswerSource(replay.steps(), replay.outputs, replay.restore, ())
        filters = self._pii.output_filters(plan.decision.pii, pseudonyms, plan.sampling.n)
        timings.engine_started = time.perf_counter()
        steps = self._engine.generate(plan.request_id, plan.prompt_token_ids, plan.sampling)

        async def screen(step: GenerationStep) -> GenerationStep:
            return await self._pii.filter_step(step, filters)

        return _AnswerSource(steps, filters, screen, filters)

    async def _look_up_cache(self, plan: GenerationPlan) -> GenerationPlan:
        """The plan with what the response cache holds for it (nothing unless its policy caches)."""
        return dataclasses.replace(plan, cache=await self._cache.look_up(plan))

    def _account(self, plan: GenerationPlan, tally: UsageTally, timings: RequestTimings) -> None:
        principal = plan.principal
        self._metrics.count_tokens(
            principal.tenant, principal.department, tally.prompt_tokens, tally.completion_tokens
        )
        first_token = timings.time_to_first_token()
        if first_token is not None and plan.cache.hit is None:
            self._metrics.observe_first_token(plan.route, first_token)

    def _find_model(self, name: str) -> ModelInfo:
        for model in self._engine.models():
            if model.name == name:
                return model
        raise ModelNotFoundError(f"the model '{name}' does not exist", param="model")

    def _tokenize(self, prompt: Prompt) -> list[int]:
        try:
            return self._engine.tokenize_prompt(prompt)
        except PromptRenderError as exc:
            raise InvalidRequestError(str(exc), param="messages") from exc


@dataclass(frozen=True, slots=True)
class _AnswerSource:
    steps: AsyncIterator[GenerationStep]
    outputs: Sequence[ScreenedOutput]
    """Each choice as the audit (and the cache) may keep it."""
    screen: Callable[[GenerationStep], Awaitable[GenerationStep]]
    """Output redaction and pseudonym restoration for the caller."""
    engine_filters: Sequence[OutputFilter]
    """The engine's output filters, whose findings are counted (none for a cached answer)."""


def _enforce(decision: Decision) -> Decision:
    refusal = decision.refusal()
    if refusal is not None:
        raise refusal
    return decision


def _engine_role(role: str) -> str:
    return "system" if role == "developer" else role


def _single_prompt(prompt: str | list[str]) -> str:
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise InvalidRequestError(
                "send exactly one prompt per request (batched prompts are not supported)",
                param="prompt",
            )
        prompt = prompt[0]
    if not prompt.strip():
        raise InvalidRequestError("prompt is empty; send some text", param="prompt")
    return prompt
