"""Render engine output as OpenAI response bodies and Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

import msgspec
import structlog

from engine.protocol import GenerationStep, TokenLogprob
from gateway.api.collect import Collected, usage_of, wire_finish_reason
from gateway.errors import GatewayError
from gateway.generation_plan import GenerationPlan
from gateway.usage import UsageTally
from gateway.wire.responses import (
    AssistantMessage,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatLogprobs,
    ChatTokenLogprob,
    ChunkDelta,
    Completion,
    CompletionChoice,
    CompletionLogprobs,
    TopLogprob,
)

SSE_DONE = b"data: [DONE]\n\n"

log = structlog.get_logger("enclave.stream")


async def ending_in_error_event(events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Once headers are sent, a failure can only be told in-band: an error event, then [DONE]."""
    try:
        async for event in events:
            yield event
    except GatewayError as exc:
        log.warning("stream failed", status=exc.status_code, code=exc.code)
        yield sse_event(exc.to_body())
        yield SSE_DONE


def sse_event(payload: msgspec.Struct | Mapping[str, object]) -> bytes:
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"


def chat_completion(plan: GenerationPlan, collected: Collected, created: int) -> ChatCompletion:
    choices = [
        ChatChoice(
            index=choice.index,
            message=AssistantMessage(content=choice.text),
            logprobs=_chat_logprobs(choice.logprobs, plan.top_logprobs),
            finish_reason=choice.finish_reason,
        )
        for choice in collected.ordered()
    ]
    return ChatCompletion(
        id=f"chatcmpl-{plan.request_id}",
        created=created,
        model=plan.model,
        choices=choices,
        usage=collected.usage(),
    )


def completion(plan: GenerationPlan, collected: Collected, created: int) -> Completion:
    choices = [
        CompletionChoice(
            index=choice.index,
            text=choice.text,
            logprobs=_completion_logprobs(choice.logprobs, plan.top_logprobs, 0),
            finish_reason=choice.finish_reason,
        )
        for choice in collected.ordered()
    ]
    return Completion(
        id=f"cmpl-{plan.request_id}",
        created=created,
        model=plan.model,
        choices=choices,
        usage=collected.usage(),
    )


async def chat_stream(
    plan: GenerationPlan, steps: AsyncIterator[GenerationStep], created: int
) -> AsyncIterator[bytes]:
    chunk_id = f"chatcmpl-{plan.request_id}"

    def chunk(choices: list[ChatChunkChoice], **extra: object) -> bytes:
        body = ChatCompletionChunk(id=chunk_id, created=created, model=plan.model, choices=choices)
        return sse_event(msgspec.structs.replace(body, **extra) if extra else body)

    roles = [
        ChatChunkChoice(index=i, delta=ChunkDelta(role="assistant", content=""))
        for i in range(plan.sampling.n)
    ]
    yield chunk(roles)
    usage = UsageTally(prompt_tokens=0)
    async for step in steps:
        usage.observe(step)
        for delta in step.deltas:
            choice = ChatChunkChoice(
                index=delta.index,
                delta=ChunkDelta(content=delta.text),
                logprobs=_chat_logprobs(list(delta.logprobs), plan.top_logprobs),
                finish_reason=wire_finish_reason(delta.finish_reason),
            )
            yield chunk([choice])
    if plan.include_usage:
        yield chunk([], usage=usage_of(usage.prompt_tokens, usage.completion_tokens))
    yield SSE_DONE


async def completion_stream(
    plan: GenerationPlan, steps: AsyncIterator[GenerationStep], created: int
) -> AsyncIterator[bytes]:
    chunk_id = f"cmpl-{plan.request_id}"
    usage = UsageTally(prompt_tokens=0)
    offsets: dict[int, int] = {}
    async for step in steps:
        usage.observe(step)
        for delta in step.deltas:
            offset = offsets.get(delta.index, 0)
            offsets[delta.index] = offset + len(delta.text)
            choice = CompletionChoice(
                index=delta.index,
                text=delta.text,
                logprobs=_completion_logprobs(list(delta.logprobs), plan.top_logprobs, offset),
                finish_reason=wire_finish_reason(delta.finish_reason),
            )
            yield sse_event(
                Completion(
                    id=chunk_id, created=created, model=plan.model, choices=[choice], usage=None
                )
            )
    if plan.include_usage:
        yield sse_event(
            Completion(
                id=chunk_id,
                created=created,
                model=plan.model,
                choices=[],
                usage=usage_of(usage.prompt_tokens, usage.completion_tokens),
            )
        )
    yield SSE_DONE


def _chat_logprobs(entries: Sequence[TokenLogprob], top: int | None) -> ChatLogprobs | None:
    if top is None:
        return None
    return ChatLogprobs(
        content=[
            ChatTokenLogprob(
                token=entry.token,
                logprob=entry.logprob,
                bytes=list(entry.token.encode()),
                top_logprobs=[
                    TopLogprob(token=token, logprob=logprob, bytes=list(token.encode()))
                    for token, logprob in entry.top[:top]
                ],
            )
            for entry in entries
        ]
    )


def _completion_logprobs(
    entries: Sequence[TokenLogprob], top: int | None, start_offset: int
) -> CompletionLogprobs | None:
    if top is None:
        return None
    offsets = []
    position = start_offset
    for entry in entries:
        offsets.append(position)
        position += len(entry.token)
    return CompletionLogprobs(
        tokens=[entry.token for entry in entries],
        token_logprobs=[entry.logprob for entry in entries],
        top_logprobs=[dict(entry.top[:top]) for entry in entries],
        text_offset=offsets,
    )
