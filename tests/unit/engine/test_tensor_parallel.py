"""tensor_parallel_size travels from settings to vLLM's engine args and is checked first."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import EngineConfig
from engine.protocol import EngineConfigurationError
from engine.tiny_model import build_tiny_model
from engine.vllm_engine import check_tensor_parallel_size, start_vllm_engine
from gateway.app import engine_config
from gateway.errors import ConfigurationError
from gateway.settings import load_settings


def test_setting_reaches_the_engine_config() -> None:
    settings = load_settings({"ENCLAVE_TENSOR_PARALLEL_SIZE": "2", "ENCLAVE_DTYPE": "bfloat16"})
    config = engine_config(settings)
    assert config.tensor_parallel_size == 2
    assert config.dtype == "bfloat16"


@pytest.mark.parametrize(("requested", "visible"), [(1, 0), (1, 1), (2, 2), (4, 8)])
def test_sizes_the_machine_can_provide(requested: int, visible: int) -> None:
    check_tensor_parallel_size(requested, visible)


@pytest.mark.parametrize(("requested", "visible"), [(2, 0), (2, 1), (8, 4), (0, 2), (-1, 2)])
def test_sizes_the_machine_cannot_provide_are_a_clear_start_up_error(
    requested: int, visible: int
) -> None:
    with pytest.raises(EngineConfigurationError) as refused:
        check_tensor_parallel_size(requested, visible)
    assert str(requested) in str(refused.value)


def test_non_numeric_setting_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="ENCLAVE_TENSOR_PARALLEL_SIZE"):
        load_settings({"ENCLAVE_TENSOR_PARALLEL_SIZE": "two"})


def test_vllm_engine_refuses_before_starting_anything(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "tiny", progress=lambda _: None)
    config = EngineConfig(model=model, served_model_name="tiny", tensor_parallel_size=2)
    with pytest.raises(EngineConfigurationError, match="needs 2 GPUs, but 0 are visible"):
        start_vllm_engine(config)
