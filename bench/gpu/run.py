"""Bare vLLM against Enclave (PII off, PII on) on a GPU, in one run, printing a table.

Usage (on the GPU machine, see bench/gpu/README.md):
    python bench/gpu/run.py --model MODEL_DIR [--concurrency 1,16,64] [--order vllm,enclave]
        [--max-tokens 256] [--json-out results.json]

Systems: (a) ``python -m vllm.entrypoints.openai.api_server`` over plain HTTP; (c) Enclave with
the full pipeline (TLS, JWT, policy, in-memory rate limits, SQLite audit) for a department
whose PII rules are all ``allow``; (d) the same process, a department with the default PII
redaction. Both engines: dummy weights, bfloat16, CUDA graphs on. (c) and (d) alternate at
every concurrency level inside the one Enclave process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from streaming_load import LevelResult, run_level
from systems import SERVED_NAME, EngineChoice, prepare_enclave, start_enclave, start_vllm

PEERS = ("vllm", "enclave", "enclave+pii")


def requests_for(concurrency: int) -> int:
    return max(16, 4 * concurrency)


async def measure_vllm(base_url: str, levels: list[int], max_tokens: int) -> dict[int, LevelResult]:
    results = {}
    for level in levels:
        results[level] = await run_level(
            base_url,
            SERVED_NAME,
            token=None,
            ca_file=None,
            concurrency=level,
            requests=requests_for(level),
            max_tokens=max_tokens,
        )
        print(f"   vllm c={level}: {results[level].output_tokens_per_s:,.0f} tok/s")
    return results


async def measure_enclave(
    base_url: str, ca_file: str, tokens: dict[str, str], levels: list[int], max_tokens: int
) -> dict[str, dict[int, list[LevelResult]]]:
    results: dict[str, dict[int, list[LevelResult]]] = {"enclave": {}, "enclave+pii": {}}
    for level in levels:
        for _ in range(2):
            for peer, department in (("enclave", "bench-plain"), ("enclave+pii", "bench-pii")):
                outcome = await run_level(
                    base_url,
                    SERVED_NAME,
                    token=tokens[department],
                    ca_file=ca_file,
                    concurrency=level,
                    requests=requests_for(level),
                    max_tokens=max_tokens,
                )
                results[peer].setdefault(level, []).append(outcome)
                print(f"   {peer} c={level}: {outcome.output_tokens_per_s:,.0f} tok/s")
    return results


def row(peer: str, level: int, result: LevelResult, baseline: LevelResult | None) -> str:
    ratio = result.output_tokens_per_s / baseline.output_tokens_per_s if baseline else 1.0
    return (
        f"| {peer} | {level} | {result.requests_per_s:.2f} | {result.output_tokens_per_s:,.0f} "
        f"| {result.latency_ms(0.5):.0f} | {result.latency_ms(0.99):.0f} "
        f"| {result.first_token_ms(0.5):.1f} | {ratio:.3f} | {result.errors} |"
    )


def table(
    vllm: dict[int, list[LevelResult]], enclave: dict[str, dict[int, list[LevelResult]]]
) -> str:
    lines = [
        "| system | concurrency | req/s | output tok/s | p50 latency ms | p99 latency ms "
        "| p50 TTFT ms | tok/s ratio to vLLM | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for level in sorted(vllm):
        base = median_run(vllm[level])
        lines.append(row("vllm", level, base, None))
        for peer in ("enclave", "enclave+pii"):
            lines.append(row(peer, level, median_run(enclave[peer][level]), base))
    return "\n".join(lines)


def median_run(runs: list[LevelResult]) -> LevelResult:
    ranked = sorted(runs, key=lambda result: result.output_tokens_per_s)
    return ranked[(len(ranked) - 1) // 2]


def summary(result: LevelResult) -> dict[str, float]:
    return {
        "requests_per_s": result.requests_per_s,
        "output_tokens_per_s": result.output_tokens_per_s,
        "p50_latency_ms": result.latency_ms(0.5),
        "p99_latency_ms": result.latency_ms(0.99),
        "p50_ttft_ms": result.first_token_ms(0.5),
        "errors": result.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--order", default="vllm,enclave")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--load-format", default="dummy", help="'auto' for real weights")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--eager", action="store_true", help="no CUDA graphs (CPU smoke runs)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    work = Path(tempfile.mkdtemp(prefix="enclave-gpu-bench-"))
    engine = EngineChoice(
        args.model.resolve(), args.load_format, args.dtype, args.eager, args.tensor_parallel_size
    )
    vllm: dict[int, list[LevelResult]] = {}
    enclave: dict[str, dict[int, list[LevelResult]]] = {}
    for system in args.order.split(","):
        print(f"==> {system}", flush=True)
        if system == "vllm":
            server = start_vllm(engine, work)
            try:
                measured = asyncio.run(measure_vllm(server.base_url, levels, args.max_tokens))
            finally:
                server.stop()
            for level, result in measured.items():
                vllm.setdefault(level, []).append(result)
        else:
            workspace = prepare_enclave(engine, work)
            server = start_enclave(workspace, work)
            try:
                enclave = asyncio.run(
                    measure_enclave(
                        server.base_url,
                        str(workspace.ca_file),
                        workspace.tokens,
                        levels,
                        args.max_tokens,
                    )
                )
            finally:
                server.stop()
    print(table(vllm, enclave))
    if args.json_out:
        data = {
            "vllm": {level: summary(median_run(runs)) for level, runs in vllm.items()},
            **{
                peer: {level: summary(median_run(runs)) for level, runs in by_level.items()}
                for peer, by_level in enclave.items()
            },
        }
        args.json_out.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
