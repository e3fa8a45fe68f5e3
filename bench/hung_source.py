"""Worst case of one SSB run against a hung source, without and with the run and table deadlines (issue 15 §4).

The fake PxWebApi accepts every data request and answers only after HANG seconds, longer than the client's timeout:
every attempt times out. Both runs, side by side in one process, fetch every SSB table of indicators.yaml:
- "no deadlines" is how a run behaved before issue 15: each table costs attempts × timeout + the backoffs;
- "deadlines" bounds each table by the table deadline and the run by the run deadline.
Time is scaled down (timeout TIMEOUT s, backoff BACKOFF s, deadlines RUN/TABLE s) so the bench takes about a minute;
the production figures follow from the same arithmetic with the defaults (timeout 30 s, backoff 1 s, 4 attempts,
deadlines 900 s and 180 s) and are printed next to the measured ones.

Run: .venv/bin/python bench/hung_source.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fetchers.ssb import SsbClient  # noqa: E402
from fetchers.ssb_source import SsbSource  # noqa: E402
from monitor.catalogue.indicators import load_catalogue  # noqa: E402
from monitor.sources.pipeline import Deadlines, FetchReport, IndicatorPlan, fetch_source  # noqa: E402
from monitor.store.database import Store  # noqa: E402
from tests.support.fake_pxwebapi import FakePxWebApi  # noqa: E402

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
HANG, TIMEOUT, BACKOFF, ATTEMPTS = 2.0, 0.5, 0.1, 4
RUN, TABLE = 5.0, 1.0
PRODUCTION = {"timeout": 30.0, "backoff": 1.0, "run": 900.0, "table": 180.0}


def one_run(server: FakePxWebApi, folder: Path, deadlines: Deadlines | None) -> tuple[float, FetchReport]:
    catalogue = load_catalogue(Path(__file__).resolve().parent.parent / "indicators.yaml")
    with Store(folder / f"{'with' if deadlines else 'without'}.db") as store:
        store.migrate()
        started = time.monotonic()
        with SsbClient(server.base_url, timeout=TIMEOUT, backoff=BACKOFF, attempts=ATTEMPTS) as client:
            report = fetch_source(
                SsbSource(client, catalogue), IndicatorPlan(catalogue, "ssb"), store, clock=lambda: NOW,
                raw_dir=folder / "raw", force=True, deadlines=deadlines,
            )
        return time.monotonic() - started, report


def per_table(timeout: float, backoff: float) -> float:
    """What one hung table costs without a deadline: every attempt times out, with the backoffs between them
    (their random quarter of jitter left out)."""
    return ATTEMPTS * timeout + sum(backoff * 2 ** n for n in range(ATTEMPTS - 1))


def main() -> int:
    with tempfile.TemporaryDirectory() as name, FakePxWebApi(calls=10_000, window=60, now=NOW) as server:
        server.inject("/tables/*/data", "delay", times=None, seconds=HANG)
        folder = Path(name)
        before, old = one_run(server, folder, None)
        after, new = one_run(server, folder, Deadlines(RUN, TABLE))
    tables = len(old.tables)
    assert len(old.failed) == tables and len(new.failed) == tables
    worst = tables * per_table(PRODUCTION["timeout"], PRODUCTION["backoff"])
    bounded = min(PRODUCTION["run"], tables * min(PRODUCTION["table"], per_table(PRODUCTION["timeout"], PRODUCTION["backoff"])))
    print(f"{tables} SSB tables, every data request hung ({HANG:g} s > timeout {TIMEOUT:g} s), {ATTEMPTS} attempts")
    print("| run | measured (scaled) | production settings (computed) |")
    print("|---|---|---|")
    print(f"| no deadlines (before) | {before:.1f} s | {worst / 60:.0f} min |")
    print(f"| deadlines run {RUN:g} s / table {TABLE:g} s (after) | {after:.1f} s | {bounded / 60:.0f} min |")
    print(f"| ratio before/after | {before / after:.1f}× | {worst / bounded:.1f}× |")
    return 0 if after <= RUN + 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
