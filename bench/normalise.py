"""Benchmark: normalising an 800 000-cell SSB-shaped JSON-stat2 body, against json.loads and pyjstat.

Run: .venv/bin/python bench/normalise.py   (exit 1 if a goal is missed)

Goals (issue 3): bytes -> all cells at least 5x faster than pyjstat (Dataset.read + write('dataframe')),
and at most 2x the time of a bare json.loads of the same bytes. The fast path is parse_dataset +
Dataset.columns(); the per-cell iterator Dataset.cells() is timed too and reported, without a goal.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import random
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fetchers.jsonstat import parse_dataset  # noqa: E402

REGIONS, CONTENTS, PERIODS = 400, 20, 100
STATUS_SHARE = 0.05
REPEATS = 5
GOAL_VS_PYJSTAT = 5.0
GOAL_VS_JSON = 2.0


def build_body(seed: int = 20241127) -> bytes:
    """An SSB v0/v2-shaped json-stat2 response: Region x ContentsCode x Tid, ~5 % suppressed cells."""
    rng = random.Random(seed)
    regions = [f"{rng.randint(0, 5699):04d}" for _ in range(REGIONS * 3)]
    regions = sorted(set(regions))[:REGIONS]
    contents = [f"Var{i:02d}" for i in range(CONTENTS)]
    periods = [str(1925 + i) for i in range(PERIODS)]
    n = REGIONS * CONTENTS * PERIODS
    values: list[float | int | None] = []
    status: dict[str, str] = {}
    for i in range(n):
        draw = rng.random()
        if draw < STATUS_SHARE:
            values.append(None)
            status[str(i)] = rng.choice(["..", ".", ":"])
        elif draw < 0.5:
            values.append(rng.randint(0, 250_000))  # counts come as JSON integers
        else:
            values.append(round(rng.uniform(0, 1000), 1))

    def category(codes: list[str], label: str) -> dict[str, Any]:
        return {"index": {c: i for i, c in enumerate(codes)}, "label": {c: f"{label} {c}" for c in codes}}

    doc = {
        "version": "2.0",
        "class": "dataset",
        "label": "99999: Syntetisk tabell, etter region, statistikkvariabel og år",
        "source": "Statistisk sentralbyrå",
        "updated": "2024-06-13T06:00:00Z",
        "note": [".. = Tallgrunnlag mangler.", ". = Ikke mulig å oppgi tall.", ": = Vises ikke av konfidensialitetshensyn."],
        "role": {"time": ["Tid"], "metric": ["ContentsCode"], "geo": ["Region"]},
        "id": ["Region", "ContentsCode", "Tid"],
        "size": [REGIONS, CONTENTS, PERIODS],
        "dimension": {
            "Region": {"label": "region", "category": category(regions, "Kommune")},
            "ContentsCode": {
                "label": "statistikkvariabel",
                "category": {
                    **category(contents, "Variabel"),
                    "unit": {c: {"base": "personer", "decimals": 0} for c in contents},
                },
            },
            "Tid": {"label": "år", "category": category(periods, "År")},
        },
        "extension": {"px": {"tableid": "99999", "decimals": 1, "language": "no"}},
        "value": values,
        "status": status,
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def run_json(body: bytes) -> Any:
    return json.loads(body)


def run_ours_columns(body: bytes) -> dict[str, list[Any]]:
    return parse_dataset(body).columns()


def run_ours_cells(body: bytes) -> None:
    deque(parse_dataset(body).cells(), maxlen=0)  # consume every Cell at C speed


def run_pyjstat(body: bytes) -> Any:
    from pyjstat import pyjstat

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyjstat")
        return pyjstat.Dataset.read(body.decode("utf-8")).write("dataframe", naming="id")


def timed(func: Callable[[bytes], Any], body: bytes) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = func(body)
    return time.perf_counter() - start, result


def check(body: bytes) -> None:
    """The fast path and pyjstat agree on every value; statuses are all there."""
    columns = run_ours_columns(body)
    frame = run_pyjstat(body)
    n = REGIONS * CONTENTS * PERIODS
    assert len(columns["value"]) == len(frame) == n
    assert columns["Region"] == frame["Region"].tolist() and columns["Tid"] == frame["Tid"].tolist()
    for ours, theirs in zip(columns["value"], frame["value"].tolist(), strict=True):
        assert (ours is None and math.isnan(theirs)) or ours == theirs
    suppressed = sum(s is not None for s in columns["status"])
    assert suppressed == sum(v is None for v in columns["value"]) and 0.04 * n < suppressed < 0.06 * n


def main() -> int:
    body = build_body()
    check(body)
    runs = {"json.loads": run_json, "ours: parse_dataset + columns()": run_ours_columns,
            "ours: parse_dataset + cells()": run_ours_cells, "pyjstat read + write('dataframe')": run_pyjstat}
    best = {name: math.inf for name in runs}
    for _ in range(REPEATS):  # interleaved, best of REPEATS, all on the same bytes
        for name, func in runs.items():
            best[name] = min(best[name], timed(func, body)[0])
    base, fast, cells, pyj = (best[name] for name in runs)
    print(f"{REGIONS} regions x {CONTENTS} contents x {PERIODS} periods = {REGIONS * CONTENTS * PERIODS:,} cells, "
          f"{len(body) / 1e6:.1f} MB; best of {REPEATS}, interleaved; {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}\n")
    print("| run | seconds | / json.loads | pyjstat / this |")
    print("|---|---:|---:|---:|")
    for name in runs:
        print(f"| {name} | {best[name]:.3f} | {best[name] / base:.2f}x | {pyj / best[name]:.1f}x |")
    ok_pyjstat, ok_json = pyj / fast >= GOAL_VS_PYJSTAT, fast / base <= GOAL_VS_JSON
    print(f"\nGoal >= {GOAL_VS_PYJSTAT:.0f}x faster than pyjstat (fast path): {'met' if ok_pyjstat else 'MISSED'} "
          f"({pyj / fast:.1f}x)")
    print(f"Goal <= {GOAL_VS_JSON:.0f}x json.loads (fast path): {'met' if ok_json else 'MISSED'} ({fast / base:.2f}x)")
    print(f"(cells() iterator, no goal: {cells / base:.2f}x json.loads, {pyj / cells:.1f}x faster than pyjstat)")
    return 0 if ok_pyjstat and ok_json else 1


if __name__ == "__main__":
    sys.exit(main())
