"""OpenAI-compatible routes: chat completions, completions, models."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream

from engine.protocol import GenerationStep
from gateway.api import render
from gateway.api.collect import Collected, collect
from gateway.api.disconnect import ClientDisconnectedError, cancel_on_disconnect
from gateway.api.middleware import request_id_of
from gateway.api.openapi import json_body
from gateway.api.streams import primed
from gateway.auth.guards import principal_of, requires_role
from gateway.auth.principal import APP_ROLE
from gateway.generation_plan import GenerationPlan
from gateway.pipeline import Pipeline
from gateway.timings import timings_of
from gateway.wire.decode import decode_request
from gateway.wire.requests import ChatCompletionRequest, CompletionRequest
from gateway.wire.responses import Model, ModelList

CLIENT_CLOSED_REQUEST = 499
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}

StreamRenderer = Callable[
    [GenerationPlan, AsyncIterator[GenerationStep], int], AsyncIterator[bytes]
]
BodyRenderer = Callable[[GenerationPlan, Collected, int], msgspec.Struct]


@post(
    "/v1/chat/completions",
    status_code=200,
    guards=[requires_role(APP_ROLE)],
    operation_class=json_body(ChatCompletionRequest),
)
async def chat_completions(request: Request[Any, Any, Any], pipeline: Pipeline) -> Response[Any]:
    body = decode_request(await request.body(), ChatCompletionRequest)
    plan = await pipeline.plan_chat(request_id_of(request.scope), principal_of(request), body)
    return await _respond(request, pipeline, plan, render.chat_stream, render.chat_completion)


@post(
    "/v1/completions",
    status_code=200,
    guards=[requires_role(APP_ROLE)],
    operation_class=json_body(CompletionRequest),
)
async def completions(request: Request[Any, Any, Any], pipeline: Pipeline) -> Response[Any]:
    body = decode_request(await request.body(), CompletionRequest)
    plan = await pipeline.plan_completion(request_id_of(request.scope), principal_of(request), body)
    return await _respond(request, pipeline, plan, render.completion_stream, render.completion)


async def _respond(
    request: Request[Any, Any, Any],
    pipeline: Pipeline,
    plan: GenerationPlan,
    render_stream: StreamRenderer,
    render_body: BodyRenderer,
) -> Response[Any]:
    created = int(time.time())
    admission = await pipeline.admit(plan)
    record = pipeline.audit_record(request.scope, plan)
    await pipeline.record_start(plan, record, admission, request.scope)
    timings = timings_of(request.scope)
    steps = await primed(pipeline.generate(plan, admission, timings, record))
    headers = {**admission.headers, **plan.cache.headers}
    if plan.stream:
        return Stream(
            render.ending_in_error_event(render_stream(plan, steps, created)),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, **headers},
        )
    try:
        collected = await cancel_on_disconnect(request.receive, collect(steps, plan.sampling.n))
    except ClientDisconnectedError:
        return Response(content=b"", status_code=CLIENT_CLOSED_REQUEST)
    return Response(content=render_body(plan, collected, created), headers=headers)


@get("/v1/models", guards=[requires_role(APP_ROLE)])
async def list_models(pipeline: Pipeline) -> ModelList:
    return ModelList(
        data=[
            Model(id=model.name, created=model.created, max_model_len=model.max_model_len)
            for model in pipeline.models()
        ]
    )
