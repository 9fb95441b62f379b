"""How well the PII gate finds personal data, against stock Presidio on the same texts.

    .venv/bin/python bench/pii_accuracy.py [--samples 300] [--runs 60] [--seed 7]

Corpus (``bench/pii_corpus.py``): ``--samples`` generated texts per language (English and
Chinese, 20+ templates each, 1-3 labelled values per text) plus a quarter as many
look-alike controls without personal data; "presidio-own": 48 sentences taken from
Presidio's public test suite (written into ``pii_corpus.py`` with their source files;
nothing is downloaded) and the labelled examples ``presidio_analyzer`` ships (its
LangExtract prompt examples); "presidio-style": 32 sentences in that style written here.

Enclave: ``redact_input`` (and ``find_input_spans`` for the spans) with a policy that
redacts every known entity type at threshold 0.5 (the ``default`` policy's). Stock: a
Presidio ``AnalyzerEngine`` with its default recognizers on the same spaCy model package
(its own copy, whole pipeline), every type, each finding replaced by ``<TYPE>`` (overlaps
merged, as presidio-anonymizer's default ``replace`` does; presidio-anonymizer is not
installed), scored twice: at the same threshold 0.5 ("stock@.5") and at Presidio's own
default of 0 ("stock@0", as shipped).

Per category: recall (true values overlapped by a finding of a matching type), precision
(findings of an evaluated type that overlap a true value of a matching type; findings on
controls count against it; findings of types not evaluated, such as DATE_TIME, are left
out), leak (true values still present verbatim after redaction) and partial (true values
with any character not covered by a finding of any type, so some of it is still visible).
Then speed (p50/p99 on 190- and 2,000-character English prompts, the engines taking
turns) and the analyzer's memory (RSS growth while it is built, before the stock engine).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import psutil
from pii_corpus import (
    LABELS,
    NAMES_AND_PLACES,
    STRUCTURED,
    Sample,
    generated_corpus,
    presidio_shipped_examples,
    presidio_style_corpus,
    presidio_test_sentences,
)
from pii_stock import stock_presidio

from gateway.policy.entities import KNOWN_ENTITIES
from gateway.policy.loader import load_policy_set
from gateway.policy.schema import EntityRule, PiiPolicy
from gateway.redaction import PiiAnalyzer

THRESHOLD = 0.5
GROUPS = {"presidio-shipped": "presidio-own", "presidio-tests": "presidio-own"}
"""Presidio's public test sentences and its shipped examples are reported together."""
ENGINES = ("Enclave", "stock@.5", "stock@0")
ALL_TYPES = PiiPolicy(
    score_threshold=THRESHOLD,
    entities={entity: EntityRule(action="redact") for entity in sorted(KNOWN_ENTITIES)},
)
MATCHING = {  # a finding's type → the labels it counts for
    "PHONE_NUMBER": frozenset({"PHONE_NUMBER", "CN_MOBILE"}),
    "CN_MOBILE": frozenset({"CN_MOBILE", "PHONE_NUMBER"}),
    **{label: frozenset({label}) for label in LABELS if label not in ("PHONE_NUMBER", "CN_MOBILE")},
}
LEAK_TARGET = {**dict.fromkeys(STRUCTURED, 0.01), **dict.fromkeys(NAMES_AND_PLACES, 0.05)}
Found = tuple[int, int, str]  # start, end, type


@dataclass
class Tally:
    values: int = 0
    recalled: int = 0
    leaked: int = 0
    partial: int = 0
    true_findings: int = 0
    false_findings: int = 0

    def recall(self) -> float | None:
        return self.recalled / self.values if self.values else None

    def precision(self) -> float | None:
        total = self.true_findings + self.false_findings
        return self.true_findings / total if total else None

    def leak(self) -> float | None:
        return self.leaked / self.values if self.values else None

    def partial_rate(self) -> float | None:
        return self.partial / self.values if self.values else None


@dataclass
class Result:
    by_label: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    control_texts: int = 0
    controls_hit: int = 0
    controls_hit_evaluated: int = 0
    control_types: Counter[str] = field(default_factory=Counter)


def score(sample: Sample, found: Sequence[Found], output: str, result: Result) -> None:
    for span in sample.spans:
        tally = result.by_label[span.label]
        tally.values += 1
        tally.recalled += any(
            s < span.end and span.start < e and span.label in MATCHING.get(t, ())
            for s, e, t in found
        )
        tally.leaked += span.value in output
        covered = set().union(*(range(s, e) for s, e, _ in found)) if found else set()
        visible = [i for i in range(span.start, span.end) if not sample.text[i].isspace()]
        tally.partial += any(i not in covered for i in visible)
    if not sample.spans:
        result.control_texts += 1
        result.controls_hit += bool(found)
        result.controls_hit_evaluated += any(t in MATCHING for _, _, t in found)
        result.control_types.update(t for _, _, t in found)
    for s, e, t in found:
        if t not in MATCHING:
            continue
        hit = next(
            (x for x in sample.spans if s < x.end and x.start < e and x.label in MATCHING[t]), None
        )
        if hit is not None:
            result.by_label[hit.label].true_findings += 1
        else:
            result.by_label[t].false_findings += 1


class Stock:
    """Presidio as shipped: default recognizers, the same spaCy model with its whole pipeline."""

    def __init__(self) -> None:
        self.engine = stock_presidio()

    def find(
        self, text: str, entities: Sequence[str] | None = None
    ) -> list[tuple[int, int, str, float]]:
        """Everything Presidio reports (of ``entities``, default all), at its threshold 0."""
        results = self.engine.analyze(text, language="en", entities=entities)
        return [(r.start, r.end, r.entity_type, r.score) for r in results]

    def redact(
        self, text: str, findings: Sequence[tuple[int, int, str, float]] | None = None
    ) -> tuple[str, list[Found]]:
        findings = sorted(self.find(text) if findings is None else findings)
        runs: list[list] = []  # [start, end, type, score], overlaps merged
        for start, end, entity, value in findings:
            if runs and start < runs[-1][1]:
                run = runs[-1]
                run[1] = max(run[1], end)
                if value > run[3]:
                    run[2], run[3] = entity, value
            else:
                runs.append([start, end, entity, value])
        redacted, cursor = [], 0
        for start, end, entity, _ in runs:
            redacted += [text[cursor:start], f"<{entity}>"]
            cursor = end
        redacted.append(text[cursor:])
        return "".join(redacted), [(s, e, t) for s, e, t, _ in findings]


async def evaluate(
    analyzer: PiiAnalyzer, stock: Stock, corpus: Iterable[Sample]
) -> dict[tuple[str, str], dict[str, Result]]:
    """(source group, language) → engine → result."""
    results: dict[tuple[str, str], dict[str, Result]] = defaultdict(
        lambda: {engine: Result() for engine in ENGINES}
    )
    for sample in corpus:
        group = (GROUPS.get(sample.source, sample.source.split()[0]), sample.language)
        redaction = await analyzer.redact_input([sample.text], ALL_TYPES)
        spans = await analyzer.find_input_spans([sample.text], ALL_TYPES)
        found = [(s.start, s.end, s.entity_type) for s in spans]
        score(sample, found, redaction.texts[0], results[group]["Enclave"])
        everything = stock.find(sample.text)
        for engine, threshold in (("stock@.5", THRESHOLD), ("stock@0", 0.0)):
            kept = [finding for finding in everything if finding[3] >= threshold]
            output, stock_found = stock.redact(sample.text, kept)
            score(sample, stock_found, output, results[group][engine])
    return results


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:5.1f}"


def print_accuracy(group: tuple[str, str], engines: dict[str, Result]) -> None:
    print(f"\n{group[0]} corpus, {group[1]}: % recall, precision, leak, partial")
    print(
        f"{'category':<15}{'n':>4}"
        + "".join(f"  {e + ' R':>7} {'P':>5} {'leak':>5} {'part':>5}" for e in ENGINES)
    )
    for label in LABELS:
        tallies = [engines[engine].by_label.get(label) or Tally() for engine in ENGINES]
        if not any(t.values or t.false_findings for t in tallies):
            continue
        cells = "".join(
            f"  {pct(t.recall()):>7} {pct(t.precision()):>5} {pct(t.leak()):>5} "
            f"{pct(t.partial_rate()):>5}"
            for t in tallies
        )
        print(f"{label:<15}{tallies[0].values:>4}{cells}")
    for name in ENGINES:
        result = engines[name]
        if not result.control_texts:
            continue
        evaluated = Counter({t: c for t, c in result.control_types.items() if t in MATCHING})
        others = Counter({t: c for t, c in result.control_types.items() if t not in MATCHING})
        print(
            f"controls ({result.control_texts} texts), {name}: {result.controls_hit_evaluated} "
            f"with an evaluated type [{_top(evaluated)}]; {result.controls_hit} with any type "
            f"[other types: {_top(others)}]"
        )


def _top(counts: Counter[str]) -> str:
    return ", ".join(f"{t} {c}" for t, c in counts.most_common(4)) or "none"


def print_targets(results: dict[tuple[str, str], dict[str, Result]]) -> None:
    print("\nleak-rate targets (generated corpus; structured <= 1%, names/addresses <= 5%)")
    for language in ("en", "zh"):
        engines = results.get(("generated", language))
        if not engines:
            continue
        for label in LABELS:
            tally = engines["Enclave"].by_label.get(label)
            if not tally or not tally.values:
                continue
            leak, target = tally.leak() or 0.0, LEAK_TARGET[label]
            verdict = "met" if leak <= target else "NOT MET"
            print(
                f"  {language} {label:<16} leak {100 * leak:5.1f}%  "
                f"target {100 * target:.0f}%  {verdict}"
            )


def recall_summary(results: dict[tuple[str, str], dict[str, Result]]) -> None:
    print("\nrecall over all labelled values (micro): structured | names and addresses")
    for group, engines in sorted(results.items()):
        cells = []
        for name in ENGINES:
            parts = []
            for labels in (STRUCTURED, NAMES_AND_PLACES):
                tallies = [engines[name].by_label[x] for x in labels if x in engines[name].by_label]
                values = sum(t.values for t in tallies)
                recalled = sum(t.recalled for t in tallies)
                parts.append(pct(recalled / values if values else None))
            cells.append(f"{name} {parts[0]} | {parts[1]}")
        print(f"  {group[0]:<14} {group[1]}:  " + "   ".join(cells))


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def prompt_of(corpus: Sequence[Sample], size: int) -> str:
    text = ""
    for sample in corpus:
        if sample.language == "en":
            text += sample.text + " "
        if len(text) >= size:
            break
    return text[:size]


async def time_interleaved(
    calls: dict[str, Callable[[str], Awaitable[object]]], prompt: str, runs: int
) -> dict[str, list[float]]:
    """Milliseconds per call, the engines taking turns, so machine load hits them alike."""
    samples: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(runs):
        for label, call in calls.items():
            started = time.perf_counter()
            await call(prompt)
            samples[label].append((time.perf_counter() - started) * 1000)
    return samples


async def print_speed(
    analyzer: PiiAnalyzer, stock: Stock, corpus: Sequence[Sample], runs: int
) -> None:
    default = load_policy_set(Path("policies")).policy_for("default").pii
    default_types = sorted(e for e, r in default.entities.items() if r.action != "allow")
    sizes = {190: runs, 2000: max(10, runs // 3)}
    prompts = {size: prompt_of(corpus, size) for size in sizes}

    async def stock_every_type(prompt: str) -> None:
        stock.redact(prompt)

    async def stock_default_types(prompt: str) -> None:
        stock.redact(prompt, stock.find(prompt, default_types))

    calls: dict[str, Callable[[str], Awaitable[object]]] = {
        "stock Presidio, every type (+ replace)": stock_every_type,
        "stock Presidio, default policy's types": stock_default_types,
        "Enclave redact_input, every type": lambda p: analyzer.redact_input([p], ALL_TYPES),
        "Enclave redact_input, policy default": lambda p: analyzer.redact_input([p], default),
    }
    for call in calls.values():  # warm every path once
        await call(prompts[190])
    print(
        f"\nspeed, ms (English prompts of 190 chars x{sizes[190]} and 2,000 chars "
        f"x{sizes[2000]}; engines take turns)"
    )
    print(f"{'':<44}{'190 p50':>9}{'190 p99':>9}{'2000 p50':>10}{'2000 p99':>10}")
    timed = {size: await time_interleaved(calls, prompts[size], n) for size, n in sizes.items()}
    rows = {
        label: [*percentiles(timed[190][label]), *percentiles(timed[2000][label])]
        for label in calls
    }
    for label, cells in rows.items():
        print(f"{label:<44}" + "".join(f"{v:>9.2f} " for v in cells))
    print_speed_ups(rows)


def print_speed_ups(rows: dict[str, list[float]]) -> None:
    every, same_types = (
        rows["stock Presidio, every type (+ replace)"],
        rows["stock Presidio, default policy's types"],
    )
    for label, stock in (("every type", every), ("default policy", same_types)):
        cells = rows[f"Enclave redact_input, {'policy default' if 'policy' in label else label}"]
        ratios = f"190: {stock[0] / cells[0]:.1f}x, 2000: {stock[2] / cells[2]:.1f}x"
        verdict = "met" if stock[2] / cells[2] >= 10 else "NOT MET"
        print(f"  speed-up, {label} vs stock on the same types: {ratios}", end="")
        print(f" (>= 10x at 2000: {verdict})")
    default = rows["Enclave redact_input, policy default"]
    print(
        f"  speed-up, policy default vs stock every type: 190: {every[0] / default[0]:.1f}x, "
        f"2000: {every[2] / default[2]:.1f}x"
    )


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


async def run(samples: int, runs: int, seed: int) -> None:
    started, before = time.perf_counter(), rss_mib()
    analyzer = await anyio.to_thread.run_sync(PiiAnalyzer.build)
    built, built_s = rss_mib(), time.perf_counter() - started
    stock = await anyio.to_thread.run_sync(Stock)
    with_stock = rss_mib()
    print(
        f"Enclave analyzer built in {built_s:.1f} s; RSS {before:.0f} -> {built:.0f} MiB "
        f"(+{built - before:.0f} MiB: Presidio, spaCy model cut to NER, rules); stock Presidio "
        f"AnalyzerEngine (own copy of the model, whole pipeline) +{with_stock - built:.0f} MiB"
    )
    corpus = generated_corpus(samples, seed)
    corpus += presidio_test_sentences() + presidio_shipped_examples() + presidio_style_corpus()
    counted = Counter(s.source for s in corpus)
    print(f"corpus: {dict(counted)}; threshold {THRESHOLD}")
    started = time.perf_counter()
    results = await evaluate(analyzer, stock, corpus)
    print(f"evaluated in {time.perf_counter() - started:.1f} s")
    for group in sorted(results):
        print_accuracy(group, results[group])
    recall_summary(results)
    print_targets(results)
    await print_speed(analyzer, stock, corpus, runs)
    print(f"\nRSS after the whole run: {rss_mib():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300, help="generated texts per language")
    parser.add_argument("--runs", type=int, default=60, help="timed analyses of 190 chars")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    anyio.run(run, arguments.samples, arguments.runs, arguments.seed)


if __name__ == "__main__":
    main()
