"""A tiny random-weight Llama with a real BPE tokenizer, for fast tests and benchmarks.

Its answers are noise, but it loads and runs through the same code paths as a real model:
safetensors weights, a byte-level BPE tokenizer (any text tokenizes) and a chatml template.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.models import (
    Progress,
    StepLog,
    build_model_dir,
    is_prepared,
    offline_hub,
    save_tokenizer,
)

SEED = 0
RECIPE = "tiny-random-llama-v1"
MAX_POSITIONS = 2048
TARGET_VOCAB = 2000
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
SPECIAL_TOKEN_MAP = {
    "unk_token": "<|endoftext|>",
    "bos_token": "<|im_start|>",
    "eos_token": "<|im_end|>",
    "pad_token": "<|endoftext|>",
}
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_SUBJECTS = (
    "The gateway",
    "A small model",
    "Every tenant",
    "The operator",
    "Our auditor",
    "The scheduler",
    "A careful engineer",
    "The old server",
    "My colleague",
    "The service",
    "A new client",
    "The database",
    "The kernel",
    "Each request",
    "The weather station",
    "A quiet librarian",
    "The river pilot",
    "An orange cat",
    "The city council",
    "A tired runner",
)
_VERBS = (
    "reads",
    "writes",
    "checks",
    "rejects",
    "accepts",
    "measures",
    "counts",
    "encrypts",
    "forwards",
    "records",
    "explains",
    "compares",
    "rebuilds",
    "schedules",
    "answers",
    "borrows",
    "paints",
    "carries",
    "observes",
    "remembers",
)
_OBJECTS = (
    "the certificate",
    "every token",
    "a long prompt",
    "the access log",
    "three invoices",
    "the quarterly report",
    "a broken pipeline",
    "the secret key",
    "twelve messages",
    "the rate limit",
    "a green umbrella",
    "the mountain map",
    "two hundred books",
    "the harbour lights",
    "a wooden chair",
    "the evening news",
    "fresh bread",
    "the train times",
    "a handwritten letter",
    "the garden fence",
)
_ENDINGS = (
    "before noon",
    "after midnight",
    "without complaint",
    "in the morning",
    "on Tuesday",
    "with great care",
    "twice a week",
    "near the station",
    "during the audit",
    "every hour",
)
_EXTRA_TEXT = """\
What is the capital of France? The capital of France is Paris.
What is the capital of Italy? The capital of Italy is Rome.
How many days are in a week? There are seven days in a week.
Please summarise the report in two sentences. Sure, here is a short summary.
The quick brown fox jumps over the lazy dog, and the dog does not mind at all.
Numbers such as 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42, 100 and 2048 appear in logs.
Punctuation matters: commas, periods, colons; question marks? exclamation marks!
Hello! Hi there. Good morning. Thank you very much. You are welcome. Goodbye.
JSON looks like {"name": "value", "count": 3} and code looks like print(x + 1).
Spring, summer, autumn and winter follow one another; January, February, March, April,
May, June, July, August, September, October, November and December make up the year.
Monday, Wednesday, Thursday, Friday, Saturday and Sunday are days of the week.
Red, orange, yellow, green, blue, indigo, violet, black, white, purple and brown are colours.
Apples, bananas, cherries, grapes, lemons, mangoes, peaches, pears and plums are fruit.
Doctors, teachers, farmers, pilots, lawyers, nurses, bakers, writers and musicians work hard.
Mathematics, physics, chemistry, biology, history, geography, music and literature are taught.
The committee approved the budget, postponed the vote, and published a detailed statement.
Scientists discovered that the temperature, pressure and humidity changed unexpectedly.
Travellers crossed the bridge, climbed the hill, visited the museum and photographed castles.
The application returned an error because the configuration file was missing a parameter.
Developers deploy containers, monitor latency, investigate failures and improve throughput.
Students borrowed dictionaries, encyclopedias, newspapers and magazines from the library.
The orchestra rehearsed symphonies, concertos and sonatas for the international festival.
Engineers designed bridges, tunnels, railways, airports and harbours across the continent.
Customers complained politely, requested refunds, and eventually received compensation.
"""


def build_tiny_model(target_dir: Path, *, progress: Progress = print) -> Path:
    """Build the tiny model into ``target_dir`` once; later calls skip."""
    target_dir = Path(target_dir)
    log = StepLog(progress)
    if is_prepared(target_dir):
        log(f"{target_dir} already holds a prepared model: skipping")
        return target_dir
    marker = {"source": RECIPE, "seed": SEED}
    return build_model_dir(target_dir, marker=marker, build=lambda out: _build(out, log), log=log)


def corpus() -> Iterator[str]:
    """A few hundred deterministic English sentences to train the tokenizer on."""
    for index in range(600):
        subject = _SUBJECTS[index % len(_SUBJECTS)]
        verb = _VERBS[(index * 7) % len(_VERBS)]
        obj = _OBJECTS[(index * 11) % len(_OBJECTS)]
        ending = _ENDINGS[(index * 3) % len(_ENDINGS)]
        yield f"{subject} {verb} {obj} {ending}, ticket {index * 37 % 1000}."
    yield from _EXTRA_TEXT.splitlines()


def train_tokenizer() -> Any:
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on ``corpus()``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=TARGET_VOCAB,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    return tokenizer


def _build(out: Path, log: StepLog) -> None:
    with offline_hub():
        log("training the byte-level BPE tokenizer")
        tokenizer = train_tokenizer()
        log(f"tokenizer has {tokenizer.get_vocab_size()} tokens; building random weights")
        model = _random_model(tokenizer)
        log(f"saving safetensors and tokenizer into {out}")
        model.save_pretrained(out)
        save_tokenizer(
            tokenizer,
            out,
            chat_template=CHAT_TEMPLATE,
            max_length=MAX_POSITIONS,
            special=SPECIAL_TOKEN_MAP,
        )


def _random_model(tokenizer: Any) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    token_id = tokenizer.token_to_id
    config = LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=token_id(SPECIAL_TOKEN_MAP["bos_token"]),
        eos_token_id=token_id(SPECIAL_TOKEN_MAP["eos_token"]),
        pad_token_id=token_id(SPECIAL_TOKEN_MAP["pad_token"]),
        tie_word_embeddings=False,
        dtype="float32",
    )
    torch.manual_seed(SEED)
    return LlamaForCausalLM(config)  # type: ignore[no-untyped-call]
