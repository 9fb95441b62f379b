"""Building local model folders: the tiny test model and the shipped SmolLM2 conversion."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.models import (
    MARKER_NAME,
    OFFLINE_VARIABLES,
    ModelIntegrityError,
    default_gguf_path,
    is_prepared,
    offline_hub,
    prepare_default_model,
    read_marker,
    sha256_file,
)
from engine.tiny_model import build_tiny_model
from gateway.cli import model as model_cli
from gateway.cli.main import main

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is the capital of France?"},
]


def load_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder, local_files_only=True)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny", progress=lambda _: None)


def test_tiny_model_files_exist(tiny_dir: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert (tiny_dir / name).is_file(), name
    assert is_prepared(tiny_dir)
    config = json.loads((tiny_dir / "config.json").read_text())
    assert config["hidden_size"] == 128
    assert config["num_hidden_layers"] == 2
    assert config["num_key_value_heads"] == 2
    assert config["dtype"] == "float32"
    assert 1500 <= config["vocab_size"] <= 2048
    assert "quantization_config" not in config


def test_tiny_tokenizer_round_trips_any_text(tiny_dir: Path) -> None:
    tokenizer = load_tokenizer(tiny_dir)
    for text in ("The capital of France is Paris.", "Ünïcode 日本 🙂 {json: 1}\n\ttabs"):
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert tokenizer.decode(ids) == text
    assert len(tokenizer) == json.loads((tiny_dir / "config.json").read_text())["vocab_size"]
    assert tokenizer.bos_token == "<|im_start|>"
    assert tokenizer.eos_token == "<|im_end|>"


def test_tiny_chat_template_adds_generation_prompt(tiny_dir: Path) -> None:
    rendered = load_tokenizer(tiny_dir).apply_chat_template(
        MESSAGES, tokenize=False, add_generation_prompt=True
    )
    assert rendered == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_second_build_is_skipped(tiny_dir: Path) -> None:
    before = (tiny_dir / "model.safetensors").stat().st_mtime_ns
    lines: list[str] = []
    assert build_tiny_model(tiny_dir, progress=lines.append) == tiny_dir
    assert len(lines) == 1
    assert "skipping" in lines[0]
    assert (tiny_dir / "model.safetensors").stat().st_mtime_ns == before


def test_build_is_deterministic(tiny_dir: Path, tmp_path: Path) -> None:
    again = build_tiny_model(tmp_path / "again", progress=lambda _: None)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert sha256_file(again / name) == sha256_file(tiny_dir / name), name


def test_interrupted_build_is_not_prepared_and_is_cleaned_up(tmp_path: Path) -> None:
    target = tmp_path / "tiny"
    leftover = tmp_path / ".tiny.partial-abc123"
    leftover.mkdir()
    (leftover / "config.json").write_text("{}")
    (leftover / MARKER_NAME).write_text("{}")
    assert not is_prepared(target)

    lines: list[str] = []
    build_tiny_model(target, progress=lines.append)
    assert is_prepared(target)
    assert not leftover.exists()
    assert any("leftover" in line for line in lines)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tiny"]


def test_folder_without_marker_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "tiny"
    target.mkdir()
    (target / "config.json").write_text("{}")
    assert not is_prepared(target)
    with pytest.raises(FileExistsError, match="not a prepared model"):
        build_tiny_model(target, progress=lambda _: None)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tiny"]


def test_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("engine.tiny_model.save_tokenizer", fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_tiny_model(tmp_path / "tiny", progress=lambda _: None)
    assert list(tmp_path.iterdir()) == []


def test_offline_hub_sets_and_restores_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    with offline_hub():
        assert all(os.environ[name] == "1" for name in OFFLINE_VARIABLES)
    assert "HF_HUB_OFFLINE" not in os.environ
    assert os.environ["TRANSFORMERS_OFFLINE"] == "0"


def test_cli_model_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared: list[Path] = []
    monkeypatch.setattr(model_cli, "prepare_default_model", prepared.append)
    monkeypatch.setenv("ENCLAVE_MODEL", str(tmp_path / "from-settings"))
    monkeypatch.delenv("ENCLAVE_CONFIG_FILE", raising=False)
    assert main(["model", "prepare", "--dir", str(tmp_path / "m")]) == 0
    assert main(["model", "prepare"]) == 0
    assert prepared == [tmp_path / "m", tmp_path / "from-settings"]
    assert main(["model", "tiny", str(tmp_path / "t")]) == 0
    assert is_prepared(tmp_path / "t")


def test_smollm2_conversion(tmp_path: Path) -> None:
    """Converts the shipped GGUF for real (about 25 s on two CPU cores)."""
    lines: list[str] = []
    target = prepare_default_model(tmp_path / "smollm2", progress=lines.append)
    assert read_marker(target)["sha256"] == sha256_file(default_gguf_path())
    config = json.loads((target / "config.json").read_text())
    assert "quantization_config" not in config
    assert "_model_name_or_path" not in config
    assert config["num_hidden_layers"] == 30
    tokenizer = load_tokenizer(target)
    assert tokenizer.eos_token == "<|im_end|>"
    rendered = tokenizer.apply_chat_template(
        MESSAGES[1:], tokenize=False, add_generation_prompt=True
    )
    assert rendered.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert rendered.endswith(
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert prepare_default_model(target, progress=lines.append) == target
    assert "skipping" in lines[-1]


def test_missing_gguf_package_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.models.importlib.util.find_spec", lambda _: None)
    with pytest.raises(FileNotFoundError, match=r"pip install -e '\.\[model\]'"):
        default_gguf_path()


def test_a_gguf_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tampered = tmp_path / "pkg" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    tampered.parent.mkdir()
    tampered.write_bytes(b"GGUF but not the one the package shipped")
    monkeypatch.setattr("engine.models.default_gguf_path", lambda: tampered)
    with pytest.raises(ModelIntegrityError, match="is not the pinned"):
        prepare_default_model(tmp_path / "model", progress=lambda _: None)
    assert not (tmp_path / "model").exists(), "nothing is built from an unverified file"
