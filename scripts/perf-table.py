#!/usr/bin/env python3
"""Turns a `../shared/bench/compare.py --json FILE` result into the tables of docs/PERFORMANCE.md.

    python3 scripts/perf-table.py FILE [--manifest ../shared/bench/models/manifest.json]

Per model and thread count: ONNX Runtime and attnc median ms, the speedup, and attnc's share of
the ceiling that bounds the model: the FMA peak (100 GFLOP/s per core) for attention models, the
L3 bandwidth (54 GB/s on one core, 124 on two) over the compulsory bytes for gate models. Then
the issue's targets, each with its measured value.
"""
import argparse
import json
import math
import os
import statistics

ATTENTION = ["sdpa", "sdpa_causal", "sdpa_addmask", "mha", "cross_attention", "linformer", "sagan", "bahdanau", "luong_concat"]
GATES = ["se", "cbam", "sam", "triplet_attention", "gc_block", "luong_dot", "luong_general"]
FMA_PEAK_PER_CORE = 100.0
L3_BANDWIDTH = {1: 54.0, 2: 124.0}


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("result")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--manifest", default=os.path.join(here, "..", "..", "shared", "bench", "models", "manifest.json"))
    args = parser.parse_args()
    result = json.load(open(args.result))
    manifest = json.load(open(args.manifest))
    failed = [r for r in result["rows"] if r.get("attnc_ms") is None]
    rows = [r for r in result["rows"] if r.get("attnc_ms") is not None]

    print(f"compare.py --check, {result.get('date', '?')}\n")
    print("| model | threads | ORT ms | attnc ms | speedup | attnc share of its ceiling | compile ms | check |")
    print("|---|---:|---:|---:|---:|---|---:|---|")
    for r in rows:
        case = r["model"].split("__")[0]
        seconds = r["attnc_ms"] / 1000
        if case in GATES:
            gbps = manifest[r["model"]]["bytes"] / seconds / 1e9
            share = f"{100 * gbps / L3_BANDWIDTH[r['threads']]:.0f}% of L3 bandwidth ({gbps:.1f} GB/s)"
        else:
            gflops = manifest[r["model"]]["flops"] / seconds / 1e9
            share = f"{100 * gflops / (FMA_PEAK_PER_CORE * r['threads']):.0f}% of FMA peak ({gflops:.0f} GFLOP/s)"
        print(f"| {r['model']} | {r['threads']} | {r['ort_ms']:.3g} | {r['attnc_ms']:.3g} | {r['speedup']:.2f}x | {share} | "
              f"{r['compile_ms']:.0f} | {r['check']} |")

    def row(model, threads):
        return next((r for r in rows if r["model"] == model and r["threads"] == threads), None)

    for r in failed:
        print(f"| {r['model']} | {r['threads']} | {r.get('ort_ms', 0):.3g} | failed | | | | {r.get('check', '')} |")

    print("\n| target | measured | met |")
    print("|---|---|---|")
    slower = [f"{r['model']} at {r['threads']}t ({r['speedup']:.2f}x)" for r in rows if r["speedup"] < 1]
    print(f"| faster than ORT on every model and thread count | {len(rows) - len(slower)} of {len(rows)}"
          f"{'; slower: ' + ', '.join(slower) if slower else ''} | {'yes' if not slower else 'no'} |")
    wrong = [r["model"] for r in rows if not str(r["check"]).startswith("ok")] + [r["model"] for r in failed]
    total = len(rows) + len(failed)
    print(f"| every output checks, no run fails | {total - len(wrong)} of {total} | {'yes' if not wrong else 'no'} |")
    for name, group, goal in [("attention", ATTENTION, 1.5), ("gate", GATES, 3.0)]:
        speedups = [r["speedup"] for r in rows if r["threads"] == 2 and r["model"].split("__")[0] in group]
        value = geomean(speedups)
        print(f"| {name} geomean speedup at 2 threads ≥ {goal}x | {value:.2f}x | {'yes' if value >= goal else 'no'} |")
    sdpa = row("sdpa__bench2", 2)
    if sdpa:
        gflops = manifest["sdpa__bench2"]["flops"] / (sdpa["attnc_ms"] / 1000) / 1e9
        print(f"| sdpa bench2 ≥ 160 GFLOP/s on 2 threads | {gflops:.0f} GFLOP/s | {'yes' if gflops >= 160 else 'no'} |")
    for threads in (1, 2):
        causal, dense = row("sdpa_causal__bench2", threads), row("sdpa__bench2", threads)
        if causal and dense:
            ratio = causal["attnc_ms"] / dense["attnc_ms"]
            print(f"| sdpa_causal bench2 ≤ 0.55x sdpa bench2 ({threads}t) | {ratio:.2f}x | {'yes' if ratio <= 0.55 else 'no'} |")
    for threads in (1, 2):
        shares = []
        for r in rows:
            case = r["model"].split("__")[0]
            if case in GATES and r["threads"] == threads:
                gbps = manifest[r["model"]]["bytes"] / (r["attnc_ms"] / 1000) / 1e9
                shares.append(100 * gbps / L3_BANDWIDTH[threads])
        if shares:
            below = sum(1 for s in shares if s < 50)
            print(f"| every gate ≥ 50% of L3 bandwidth ({threads}t) | {min(shares):.0f}–{max(shares):.0f}%; {below} of {len(shares)} below | "
                  f"{'yes' if below == 0 else 'no'} |")
    compile_ms = [r["compile_ms"] for r in rows]
    over = sorted({r["model"] for r in rows if r["compile_ms"] > 50})
    print(f"| cold compile ≤ 50 ms median per model | median over all rows {statistics.median(compile_ms):.0f} ms, "
          f"range {min(compile_ms):.0f}–{max(compile_ms):.0f} ms; {len(over)} models over 50 ms | {'yes' if not over else 'no'} |")


if __name__ == "__main__":
    main()
