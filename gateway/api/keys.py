"""The public half of Enclave's signing keys, for anyone who verifies its tokens."""

from __future__ import annotations

from typing import Any

from litestar import get

from gateway.auth.directory import IdentityDirectory
from gateway.auth.guards import PUBLIC_OPT_KEY


@get("/.well-known/jwks.json", opt={PUBLIC_OPT_KEY: True})
async def jwks(directory: IdentityDirectory) -> dict[str, Any]:
    return {"keys": await directory.public_jwks()}
