"""Request bodies of the OpenAI-compatible endpoints. Unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Temperature = Annotated[float, msgspec.Meta(ge=0.0, le=2.0)]
TopP = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
Penalty = Annotated[float, msgspec.Meta(ge=-2.0, le=2.0)]
PositiveTokens = Annotated[int, msgspec.Meta(ge=1)]
ChoiceCount = Annotated[int, msgspec.Meta(ge=1, le=16)]
Seed = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
StopSequence = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
StopList = Annotated[list[StopSequence], msgspec.Meta(max_length=4)]
UserTag = Annotated[str, msgspec.Meta(max_length=256)]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class StreamOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    include_usage: bool = False


class TextPart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag="text"):
    """A text content part; other part types (images, audio, files) are not accepted."""

    text: str


class ChatMessageIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]
    name: Annotated[str, msgspec.Meta(max_length=64)] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class SamplingFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Parameters shared by chat and text completions."""

    model: ModelName
    max_tokens: PositiveTokens | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    n: ChoiceCount = 1
    stop: StopSequence | StopList | None = None
    seed: Seed | None = None
    presence_penalty: Penalty = 0.0
    frequency_penalty: Penalty = 0.0
    user: UserTag | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None

    def stop_sequences(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        if isinstance(self.stop, str):
            return (self.stop,)
        return tuple(self.stop)


class ChatCompletionRequest(SamplingFields, kw_only=True):
    messages: Annotated[list[ChatMessageIn], msgspec.Meta(min_length=1, max_length=1024)]
    max_completion_tokens: PositiveTokens | None = None
    logprobs: bool = False
    top_logprobs: Annotated[int, msgspec.Meta(ge=0, le=20)] | None = None


class CompletionRequest(SamplingFields, kw_only=True):
    prompt: str | list[str]
    logprobs: Annotated[int, msgspec.Meta(ge=0, le=5)] | None = None
