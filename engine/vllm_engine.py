"""The in-process vLLM engine (``AsyncLLM``). The only module that imports vllm."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from engine.config import EngineConfig
from engine.protocol import (
    Delta,
    EngineConfigurationError,
    EngineError,
    EngineHealth,
    FinishReason,
    GenerationStep,
    ModelInfo,
    Prompt,
    PromptRenderError,
    SamplingSpec,
    TokenLogprob,
)


class VllmEngine:
    """Serves one model with vLLM's ``AsyncLLM`` inside this process."""

    def __init__(self, config: EngineConfig, llm: Any, device: str) -> None:
        self._config = config
        self._llm = llm
        self._device = device
        self._tokenizer = llm.get_tokenizer()
        self._created = int(time.time())

    @property
    def device(self) -> str:
        return self._device

    def models(self) -> Sequence[ModelInfo]:
        return (
            ModelInfo(
                name=self._config.served_model_name,
                max_model_len=self._config.max_model_len,
                created=self._created,
            ),
        )

    def tokenize_prompt(self, prompt: Prompt) -> list[int]:
        if prompt.messages is None:
            ids: list[int] = self._tokenizer.encode(prompt.text or "")
            return ids
        conversation = [{"role": m.role, "content": m.content} for m in prompt.messages]
        try:
            text = self._tokenizer.apply_chat_template(
                conversation, add_generation_prompt=True, tokenize=False
            )
        except Exception as exc:  # the template's own error (e.g. roles out of order)
            raise PromptRenderError(
                f"the model's chat template rejected the messages: {exc}"
            ) from exc
        templated: list[int] = self._tokenizer.encode(text, add_special_tokens=False)
        return templated

    async def generate(
        self, request_id: str, prompt_token_ids: Sequence[int], sampling: SamplingSpec
    ) -> AsyncIterator[GenerationStep]:
        from vllm.v1.engine.exceptions import EngineDeadError, EngineGenerateError

        params = _sampling_params(sampling)
        counts: dict[int, int] = {}
        prompt = {"prompt_token_ids": list(prompt_token_ids)}
        try:
            async for output in self._llm.generate(prompt, params, request_id):
                deltas = tuple(_delta(choice, counts) for choice in output.outputs)
                yield GenerationStep(prompt_tokens=len(prompt_token_ids), deltas=deltas)
        except (EngineDeadError, EngineGenerateError) as exc:
            raise EngineError(f"engine failed: {type(exc).__name__}") from exc

    async def abort(self, request_id: str) -> None:
        await self._llm.abort(request_id)

    async def health(self) -> EngineHealth:
        if self._llm.errored:
            return EngineHealth(ready=False, device=self._device, detail="engine has failed")
        return EngineHealth(ready=True, device=self._device)

    async def shutdown(self) -> None:
        self._llm.shutdown()


def start_vllm_engine(config: EngineConfig) -> VllmEngine:
    """Validate the configuration and start ``AsyncLLM`` (spawns the engine-core process)."""
    _check_model_dir(config.model)
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(config.cpu_kvcache_space_gib))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.platforms import current_platform
    from vllm.v1.engine.async_llm import AsyncLLM

    device = str(current_platform.device_type)
    check_tensor_parallel_size(config.tensor_parallel_size, _visible_gpu_count(device))
    args = AsyncEngineArgs(
        model=str(config.model),
        served_model_name=[config.served_model_name],
        dtype=config.dtype,  # type: ignore[arg-type]  # validated by vLLM at start
        max_model_len=config.max_model_len,
        tensor_parallel_size=config.tensor_parallel_size,
        gpu_memory_utilization=config.gpu_memory_utilization,
        enforce_eager=config.enforce_eager,
        seed=config.seed,
        load_format=config.load_format,
        disable_log_stats=True,
    )
    llm = AsyncLLM.from_engine_args(args)
    return VllmEngine(config, llm, device)


def check_tensor_parallel_size(requested: int, visible_gpus: int) -> None:
    """Refuse a tensor-parallel size the machine cannot provide."""
    if requested < 1:
        raise EngineConfigurationError(f"tensor_parallel_size must be at least 1, got {requested}")
    if requested > 1 and requested > visible_gpus:
        raise EngineConfigurationError(
            f"tensor_parallel_size={requested} needs {requested} GPUs, "
            f"but {visible_gpus} are visible"
        )


def _visible_gpu_count(device: str) -> int:
    if device != "cuda":
        return 0
    import torch

    count: int = torch.cuda.device_count()
    return count


def _check_model_dir(model: Path) -> None:
    if not (model / "config.json").is_file():
        raise EngineConfigurationError(
            f"{model}: not a model directory (no config.json); run `enclave model prepare` "
            "or set ENCLAVE_MODEL to a local Hugging Face-format model folder"
        )


def _sampling_params(spec: SamplingSpec) -> Any:
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    return SamplingParams(
        n=spec.n,
        max_tokens=spec.max_tokens,
        temperature=spec.temperature,
        top_p=spec.top_p,
        stop=list(spec.stop) or None,
        seed=spec.seed,
        presence_penalty=spec.presence_penalty,
        frequency_penalty=spec.frequency_penalty,
        logprobs=spec.logprobs,
        ignore_eos=spec.ignore_eos,
        output_kind=RequestOutputKind.DELTA,
    )


def _delta(choice: Any, counts: dict[int, int]) -> Delta:
    index = int(choice.index)
    counts[index] = counts.get(index, 0) + len(choice.token_ids)
    return Delta(
        index=index,
        text=str(choice.text),
        completion_tokens=counts[index],
        finish_reason=_finish_reason(choice.finish_reason),
        logprobs=_logprobs(choice),
    )


def _finish_reason(reason: str | None) -> FinishReason | None:
    if reason is None:
        return None
    if reason in ("length", "abort"):
        return reason  # type: ignore[return-value]
    return "stop"


def _logprobs(choice: Any) -> tuple[TokenLogprob, ...]:
    if not choice.logprobs:
        return ()
    entries = []
    for token_id, alternatives in zip(choice.token_ids, choice.logprobs, strict=False):
        sampled = alternatives[token_id]
        ranked = sorted(alternatives.values(), key=lambda item: item.rank or 0)
        entries.append(
            TokenLogprob(
                token=sampled.decoded_token or "",
                logprob=float(sampled.logprob),
                top=tuple((alt.decoded_token or "", float(alt.logprob)) for alt in ranked),
            )
        )
    return tuple(entries)
