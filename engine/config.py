"""Engine configuration: plain values, no vLLM import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """What the in-process vLLM engine is started with."""

    model: Path
    """Local Hugging Face-format model directory."""
    served_model_name: str
    """Name clients use in the ``model`` field."""
    dtype: str = "auto"
    max_model_len: int = 2048
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    cpu_kvcache_space_gib: int = 1
    enforce_eager: bool = True
    seed: int = 0
    load_format: str = "auto"
