"""Writes conformance/bench/RESULTS.md from the JSON results of conformance/bench/run.sh
(`lakegate bench --json`, one file per target and workload): throughput side by side, lakegate's
ratio to the direct presigned path on the same store, latency percentiles, and the gateway's
CPU seconds per GiB and peak RSS."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, Optional, Tuple

TARGETS = ["direct-local", "lakegate-local", "direct-seaweedfs", "lakegate-seaweedfs", "seaweedfs", "s3s-fs"]
WORKLOADS = ["put-4KiB", "get-4KiB", "get-4KiB-commit", "put-1MiB", "get-1MiB", "put-64MiB", "get-64MiB",
             "list-10000", "put-1GiB-x8"]
SMALL = {"put-4KiB", "get-4KiB", "get-4KiB-commit", "list-10000"}  # compared by ops/s; the others by MiB/s
# what a workload of lakegate is compared with on s3s-fs (which has no commits: its plain GET)
S3S_PEER = {"get-4KiB-commit": "get-4KiB"}


def load(results: Path) -> Dict[Tuple[str, str], dict]:
    runs = {}
    for f in sorted(results.glob("*.json")):
        target, workload = f.stem.split("--", 1)
        runs[(target, workload)] = json.loads(f.read_text())
    return runs


def figure(run: Optional[dict], workload: str) -> Optional[float]:
    if run is None or run["total"]["errors"]:
        return None
    return run["total"]["ops_per_sec" if workload in SMALL else "mib_per_sec"]


def cell(run: Optional[dict], workload: str) -> str:
    if run is None:
        return "—"
    if run["total"]["errors"]:
        return f"{run['total']['errors']} errors"
    v = figure(run, workload)
    return f"{v:,.0f} ops/s" if workload in SMALL else f"{v:,.1f} MiB/s"


def ratio(a: Optional[float], b: Optional[float]) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "—"


def rss(proc: dict) -> str:
    return f"{proc['peak_rss_mib']:.0f}" if proc.get("peak_rss_mib") else "—"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--cpu", type=int, required=True)
    ap.add_argument("--lakegate", required=True)
    a = ap.parse_args()
    runs = load(a.results)
    targets = [t for t in TARGETS if any(k[0] == t for k in runs)]
    lines = [
        "# Side-by-side benchmark",
        "",
        f"Written by `conformance/bench/run.sh` ({a.lakegate}, release build; {a.seconds} s per workload; "
        f"{a.cpu} cores shared by every process; loopback). One run, all targets, same machine: compare",
        "ratios, not absolute figures. Throughput is ops/s for 4 KiB objects and LIST (a whole listing of",
        "10,000 keys, pages of 1,000), MiB/s otherwise. *direct-…* = the presigned blob-store URLs lakeFS",
        "hands out, used without the gateway (the physical limit of lakegate's data path).",
        "*get-4KiB-commit* reads the get-4KiB objects at a commit id (compared with s3s-fs's plain GET).",
        "*put-1GiB-x8*: 8 uploads of 1 GiB at once through lakegate on SeaweedFS (for the gateway's RSS).",
        "",
        "| workload | " + " | ".join(targets) + " | lakegate ÷ direct (local) | lakegate ÷ direct (SeaweedFS)"
        " | lakegate ÷ s3s-fs (local / SeaweedFS) |",
        "|---|" + "---:|" * (len(targets) + 3),
    ]
    for w in WORKLOADS:
        if not any(k[1] == w for k in runs):
            continue
        row = [cell(runs.get((t, w)), w) for t in targets]
        f = {t: figure(runs.get((t, w)), w) for t in targets}
        peer = figure(runs.get(("s3s-fs", S3S_PEER.get(w, w))), w)
        lines.append(f"| {w} | " + " | ".join(row) + f" | {ratio(f.get('lakegate-local'), f.get('direct-local'))}"
                     f" | {ratio(f.get('lakegate-seaweedfs'), f.get('direct-seaweedfs'))}"
                     f" | {ratio(f.get('lakegate-local'), peer)} / {ratio(f.get('lakegate-seaweedfs'), peer)} |")
    lines += ["", "Latency (p50 / p99 ms) and the gateway process (lakegate dev: gateway and embedded lakeFS;",
              "on the local blob store it also serves the blobs):", "",
              "| target | workload | p50 ms | p99 ms | lakeFS calls per op | CPU s per GiB | peak RSS MiB |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for t in targets:
        for w in WORKLOADS:
            r = runs.get((t, w))
            if r is None:
                continue
            p = (r.get("processes") or [{}])[0]
            cpu = p.get("cpu_secs_per_gib")
            calls = r.get("lakefs_calls_per_op")
            lines.append(f"| {t} | {w} | {r['total']['p50_ms']:.2f} | {r['total']['p99_ms']:.2f} | "
                         f"{'—' if calls is None or t.startswith('direct-') else f'{calls:.2f}'} | "
                         f"{'—' if cpu is None else f'{cpu:.2f}'} | {rss(p)} |")
    a.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
