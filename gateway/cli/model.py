"""``enclave model``: build the local model folders the engine loads."""

from __future__ import annotations

from pathlib import Path

import click

from engine.models import ModelIntegrityError, prepare_default_model
from engine.tiny_model import build_tiny_model
from gateway.errors import ConfigurationError
from gateway.settings import load_settings


@click.group("model")
def model_group() -> None:
    """Prepare local model folders."""


@model_group.command("prepare")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="target folder (default: the ENCLAVE_MODEL setting)",
)
def prepare_command(directory: Path | None) -> None:
    """Convert the bundled SmolLM2-135M-Instruct GGUF to safetensors (once)."""
    target = directory if directory is not None else load_settings().model
    try:
        prepare_default_model(target)
    except (OSError, ModelIntegrityError) as exc:
        raise ConfigurationError(f"model prepare: {exc}") from exc


@model_group.command("tiny")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
def tiny_command(directory: Path) -> None:
    """Build a tiny random-weight model for tests and benchmarks."""
    try:
        build_tiny_model(directory)
    except OSError as exc:
        raise ConfigurationError(f"model tiny: {exc}") from exc
