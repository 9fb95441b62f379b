"""Write a config-only Llama (no weights) for vLLM's ``load_format=dummy`` on a GPU machine.

Usage: python bench/make_dummy_model.py OUT_DIR [--size 1b]
The tokenizer is the tiny model's (trained here with ``tokenizers``); the weights are random
and made by vLLM on the GPU, so the folder stays a few hundred kilobytes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.models import save_tokenizer
from engine.tiny_model import CHAT_TEMPLATE, MAX_POSITIONS, SPECIAL_TOKEN_MAP, train_tokenizer

SIZES = {
    "1b": {
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
    },
    "8b": {
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
    },
}


def write_dummy_model(out: Path, size: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer()
    token_id = tokenizer.token_to_id
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": tokenizer.get_vocab_size(),
        "max_position_embeddings": MAX_POSITIONS,
        "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "bos_token_id": token_id(SPECIAL_TOKEN_MAP["bos_token"]),
        "eos_token_id": token_id(SPECIAL_TOKEN_MAP["eos_token"]),
        "pad_token_id": token_id(SPECIAL_TOKEN_MAP["pad_token"]),
        **SIZES[size],
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    save_tokenizer(
        tokenizer,
        out,
        chat_template=CHAT_TEMPLATE,
        max_length=MAX_POSITIONS,
        special=SPECIAL_TOKEN_MAP,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", choices=sorted(SIZES), default="1b")
    args = parser.parse_args()
    print(f"wrote {write_dummy_model(args.out, args.size)}")


if __name__ == "__main__":
    main()
