"""Helpers for async streams of engine steps."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeVar

T = TypeVar("T")


async def primed(steps: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """Pull the first item now, so that errors surface before a stream's headers go out."""
    try:
        first = await anext(steps)
    except StopAsyncIteration:
        first_items: tuple[T, ...] = ()
    else:
        first_items = (first,)
    return _chain(first_items, steps)


async def _chain(
    first_items: tuple[T, ...], rest: AsyncGenerator[T, None]
) -> AsyncGenerator[T, None]:
    try:
        for item in first_items:
            yield item
        async for item in rest:
            yield item
    finally:
        await rest.aclose()
