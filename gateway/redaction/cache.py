"""A small least-recently-built cache for things derived from policy content."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class BoundedCache(Generic[KeyT, ValueT]):
    """Keeps the ``size`` newest entries: policies hot-reload, so old content must age out.

    Used from the event loop only (plans and hold-backs are built before analysis starts).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[KeyT, ValueT] = OrderedDict()

    def get_or_build(self, key: KeyT, build: Callable[[], ValueT]) -> ValueT:
        value = self._entries.get(key)
        if value is None:
            value = build()
            self._entries[key] = value
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
