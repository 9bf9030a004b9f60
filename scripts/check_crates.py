#!/usr/bin/env python3
"""Fails when a crate of the workspace depends on a crate above it.

The crate graph is the architecture (docs/architecture.md): each workspace crate may depend only
on the workspace crates listed for it below. A new crate must be added here, with its place.
Reads `cargo metadata --no-deps`; exit status 1 listing every arrow that points the wrong way.
Usage: check_crates.py   (standard library only; needs cargo on PATH)
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Dict, List, Set

# crate → the workspace crates it may depend on (lower floors only)
LAYERS: Dict[str, Set[str]] = {
    "lakegate-net": set(),
    "lakefs-api": {"lakegate-net"},
    "lakefs-embedded": {"lakefs-api", "lakegate-net"},
    "s3-wire": {"lakegate-net"},
    "lakegate": {"lakefs-api", "lakefs-embedded", "lakegate-net", "s3-wire"},
}


def workspace_deps() -> Dict[str, Set[str]]:
    out = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"],
                         check=True, capture_output=True, text=True).stdout
    packages = json.loads(out)["packages"]
    names = {p["name"] for p in packages}
    return {p["name"]: {d["name"] for d in p["dependencies"] if d["name"] in names} for p in packages}


def problems(deps: Dict[str, Set[str]]) -> List[str]:
    found = []
    for crate, uses in sorted(deps.items()):
        if crate not in LAYERS:
            found.append(f"crate {crate} has no place in scripts/check_crates.py LAYERS")
            continue
        for dep in sorted(uses - LAYERS[crate]):
            found.append(f"{crate} depends on {dep}, which it may not (allowed: {sorted(LAYERS[crate]) or 'none'})")
    return found


def main() -> int:
    found = problems(workspace_deps())
    for p in found:
        print("  " + p)
    if found:
        print(f"check_crates: {len(found)} arrow(s) point the wrong way")
        return 1
    print("check_crates: every crate depends only on the crates below it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
