"""The in-process vLLM engine (``AsyncLLM``). The only module that imports vllm."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from engine.config import EngineConfig
from engine.protocol import (
    Delta,
    EngineConfigurationError,
    EngineError,
    EngineHealth,
    EngineStats,
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

    def __init__(
        self,
        config: EngineConfig,
        llm: Any,
        device: str,
        scheduler: SchedulerSnapshot | None = None,
    ) -> None:
        self._config = config
        self._llm = llm
        self._device = device
        self._scheduler = scheduler or SchedulerSnapshot()
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

    def stats(self) -> EngineStats | None:
        """The scheduler's last report; an idle frontend means an idle scheduler (aborting
        the last request frees it without another step, so without another report)."""
        if self._llm.get_num_unfinished_requests() == 0:
            return EngineStats(running=0, waiting=0, kv_cache_usage=0.0)
        return self._scheduler.combined()

    async def shutdown(self) -> None:
        self._llm.shutdown()


class SchedulerSnapshot:
    """The latest scheduler stats of each engine core, kept by vLLM's output handler.

    One reference is swapped per report, so a reader on another thread (a metrics scrape)
    sees a whole report, never half of one.
    """

    def __init__(self) -> None:
        self._by_engine: dict[int, EngineStats] = {}

    def record(self, engine_index: int, scheduler_stats: Any) -> None:
        """Keep the numbers of vLLM's ``SchedulerStats``; waiting counts deferred requests
        too, as vLLM's own ``num_requests_waiting`` gauge does."""
        deferred = getattr(scheduler_stats, "num_skipped_waiting_reqs", 0)
        stats = EngineStats(
            running=int(scheduler_stats.num_running_reqs),
            waiting=int(scheduler_stats.num_waiting_reqs) + int(deferred),
            kv_cache_usage=float(scheduler_stats.kv_cache_usage),
        )
        self._by_engine = {**self._by_engine, engine_index: stats}

    def combined(self) -> EngineStats | None:
        """Every engine core together (one unless data-parallel); None before any report."""
        reports = list(self._by_engine.values())
        if not reports:
            return None
        return EngineStats(
            running=sum(report.running for report in reports),
            waiting=sum(report.waiting for report in reports),
            kv_cache_usage=sum(report.kv_cache_usage for report in reports) / len(reports),
        )


def scheduler_stat_logger(snapshot: SchedulerSnapshot) -> Callable[[Any, int], Any]:
    """A vLLM per-engine stat logger factory that hands every scheduler report to ``snapshot``.

    Passed as ``AsyncLLM(stat_loggers=[...])``, it turns stats collection on without
    vLLM's periodic log lines. vLLM still adds its own Prometheus logger, which writes to
    prometheus_client's global registry; Enclave serves only its own registry, so those
    series never reach ``/metrics`` and never collide with the gateway's.
    """
    from vllm.v1.metrics.loggers import StatLoggerBase

    class SchedulerStatsLogger(StatLoggerBase):
        def __init__(self, vllm_config: Any, engine_index: int = 0) -> None:
            self._engine_index = engine_index

        def record(
            self,
            scheduler_stats: Any,
            iteration_stats: Any,
            mm_cache_stats: Any = None,
            engine_idx: int = 0,
        ) -> None:
            if scheduler_stats is not None:
                snapshot.record(self._engine_index, scheduler_stats)

        def log_engine_initialized(self) -> None:
            return None

    return SchedulerStatsLogger


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
        disable_log_stats=True,  # no periodic log lines; the stat logger below still runs
    )
    scheduler = SchedulerSnapshot()
    llm = AsyncLLM.from_engine_args(args, stat_loggers=[scheduler_stat_logger(scheduler)])
    return VllmEngine(config, llm, device, scheduler)


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
