"""Enclave's OpenAPI document, served to authenticated callers at ``/openapi/openapi.json``.

Handlers that take a JSON body decode it themselves (``gateway/wire/decode.py``: unknown
fields refused, errors in OpenAI's envelope), so Litestar cannot see those bodies.
``json_body(Struct)`` declares them from the very msgspec structs the decoder uses, so the
document states exactly what the gateway accepts; fuzzers (``make fuzz``) generate from it.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import msgspec
from litestar import Router
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Operation, SecurityScheme

from gateway.auth.guards import requires_any_role
from gateway.auth.principal import ROLES

OPENAPI_PATH = "/openapi"
"""The document itself is ``OPENAPI_PATH + "/openapi.json"`` (a valid token is needed)."""
BEARER_SCHEME = "bearer"


def openapi_config() -> OpenAPIConfig:
    """JSON only (no HTML viewer pulling scripts from elsewhere); every route takes a JWT,
    and so does the document: any of Enclave's roles may read it."""
    return OpenAPIConfig(
        title="Enclave",
        version=_version(),
        description="Secure OpenAI-compatible gateway in front of a private inference engine.",
        openapi_router=Router(
            OPENAPI_PATH,
            route_handlers=[],
            include_in_schema=False,
            guards=[requires_any_role(*ROLES)],
        ),
        render_plugins=[JsonRenderPlugin()],
        security=[{BEARER_SCHEME: []}],
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
    )


def json_body(struct: type[msgspec.Struct]) -> type[Operation]:
    """An ``operation_class`` for a route that decodes ``struct`` from its raw JSON body."""
    schema = body_schema(struct)

    class JsonBodyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            document = super().to_schema()
            document["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
            return document

    JsonBodyOperation.__name__ = JsonBodyOperation.__qualname__ = f"{struct.__name__}Operation"
    return JsonBodyOperation


def body_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """msgspec's JSON Schema for ``struct`` with its ``$defs`` inlined (the structs nest
    without recursion), so the schema stands alone inside any OpenAPI operation."""
    generated = msgspec.json.schema(struct)
    definitions: dict[str, Any] = generated.pop("$defs", {})
    inlined = _inline(generated, definitions)
    if not isinstance(inlined, dict):
        raise TypeError(f"{struct.__name__}: msgspec produced no object schema")
    return inlined


def _inline(node: object, definitions: dict[str, Any]) -> object:
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def _version() -> str:
    try:
        return metadata.version("enclave")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
