"""``enclave model``: build the local model folders the engine loads."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.models import prepare_default_model
from engine.tiny_model import build_tiny_model
from gateway.errors import ConfigurationError
from gateway.settings import load_settings


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("model", help="prepare local model folders")
    actions = parser.add_subparsers(dest="model_command", required=True, metavar="ACTION")

    prepare = actions.add_parser(
        "prepare",
        help="convert the bundled SmolLM2-135M-Instruct GGUF to safetensors (once)",
    )
    prepare.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="target folder (default: the ENCLAVE_MODEL setting)",
    )
    prepare.set_defaults(handler=prepare_handler)

    tiny = actions.add_parser(
        "tiny", help="build a tiny random-weight model for tests and benchmarks"
    )
    tiny.add_argument("dir", type=Path, help="target folder")
    tiny.set_defaults(handler=tiny_handler)


def prepare_handler(args: argparse.Namespace) -> int:
    target: Path = args.dir if args.dir is not None else load_settings().model
    try:
        prepare_default_model(target)
    except OSError as exc:
        raise ConfigurationError(f"model prepare: {exc}") from exc
    return 0


def tiny_handler(args: argparse.Namespace) -> int:
    try:
        build_tiny_model(args.dir)
    except OSError as exc:
        raise ConfigurationError(f"model tiny: {exc}") from exc
    return 0
