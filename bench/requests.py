"""Requests per SSB refresh against the local fake PxWebApi enforcing SSB's 30 calls / 60 s.

Run: .venv/bin/python bench/requests.py   (exits 1 if a goal is missed)
Goals (issue 3): a full refresh makes at most (distinct tables + 1) requests with zero 429s; a second
run with no change makes at most 2 requests.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fetchers.ssb import SsbClient  # noqa: E402
from monitor.seed.baseline import load_baseline  # noqa: E402
from monitor.catalogue.indicators import load_catalogue  # noqa: E402
from monitor.sources.pipeline import fetch_ssb, ssb_indicators  # noqa: E402
from monitor.store.database import Store  # noqa: E402
from tests.support.fake_pxwebapi import FakePxWebApi  # noqa: E402

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    catalogue = load_catalogue(repo / "indicators.yaml")
    tables = {s.table for i in ssb_indicators(catalogue) for s in i.fetch.series.values()}  # type: ignore[union-attr]
    rows: list[tuple[str, int, int, float, int]] = []
    with tempfile.TemporaryDirectory() as folder, FakePxWebApi(calls=30, window=60, now=NOW) as server:
        with Store(Path(folder) / "bench.db") as store:
            store.migrate()
            load_baseline(store, catalogue, NOW)
            for label, moment, force in [
                ("full refresh (first run)", NOW, False),
                ("daily check, nothing changed", NOW + timedelta(days=1), False),
                ("daily check, 01222 updated", NOW + timedelta(days=2), False),
                ("forced refresh (--force)", NOW + timedelta(days=2, hours=1), True),
            ]:
                if label.endswith("01222 updated"):
                    server.now = moment
                    server.set_table_updated("01222", moment - timedelta(hours=2))
                server.now = moment
                server.reset_counters()
                started = time.perf_counter()
                with SsbClient(server.base_url) as client:
                    report = fetch_ssb(catalogue, store, client, clock=lambda m=moment: m, raw_dir=Path(folder) / "raw", force=force)
                rows.append((label, server.total_requests, server.count_429, time.perf_counter() - started, len(report.failed)))
    print(f"{len(tables)} distinct SSB tables; fake server enforcing 30 calls / 60 s\n")
    print("| run | requests | 429s | failed tables | seconds |")
    print("|---|---:|---:|---:|---:|")
    for label, requests, refused, seconds, failed in rows:
        print(f"| {label} | {requests} | {refused} | {failed} | {seconds:.2f} |")
    goals = [
        ("full refresh ≤ tables + 1 requests", rows[0][1] <= len(tables) + 1),
        ("zero 429s in every run", all(r[2] == 0 for r in rows)),
        ("no-change run ≤ 2 requests", rows[1][1] <= 2),
        ("no failed table", all(r[4] == 0 for r in rows)),
    ]
    print()
    for goal, met in goals:
        print(f"- {goal}: {'met' if met else 'NOT MET'}")
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
