"""What the cache stores for one answer, and how it is encoded (msgpack, via msgspec)."""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from engine.protocol import TokenLogprob

ENTRY_FORMAT: Final = 1
"""Bumped when the stored shape changes; part of every key, so old entries are never read."""

StoredFinish = Literal["stop", "length"]


class CachedLogprob(msgspec.Struct, frozen=True, array_like=True):
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()

    def to_engine(self) -> TokenLogprob:
        return TokenLogprob(token=self.token, logprob=self.logprob, top=self.top)


class CachedChoice(msgspec.Struct, frozen=True, kw_only=True):
    """One choice as the audit store may keep it: output rules applied, pseudonyms not restored."""

    text: str
    completion_tokens: int
    finish_reason: StoredFinish
    logprobs: tuple[CachedLogprob, ...] = ()
    entity_counts: dict[str, int] = msgspec.field(default_factory=dict)
    """What output redaction found in this choice (types and counts, never values)."""


class CachedResponse(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: int
    choices: tuple[CachedChoice, ...]


_encoder: Final = msgspec.msgpack.Encoder()
_decoder: Final = msgspec.msgpack.Decoder(CachedResponse)


def encode_entry(entry: CachedResponse) -> bytes:
    return _encoder.encode(entry)


def decode_entry(data: bytes) -> CachedResponse:
    """The stored answer; ``msgspec.DecodeError`` (a ``ValueError``) if it is not one."""
    return _decoder.decode(data)


def logprobs_of(entries: tuple[TokenLogprob, ...]) -> tuple[CachedLogprob, ...]:
    return tuple(CachedLogprob(entry.token, entry.logprob, entry.top) for entry in entries)
