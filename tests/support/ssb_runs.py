"""One SSB fetch run of a small catalogue against the fake PxWebApi, and what it stored (the real fetcher and store)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fetchers.ssb import SsbClient
from monitor.catalogue.indicators import Catalogue
from monitor.sources.pipeline import FetchReport, fetch_ssb
from monitor.store.database import Store

from .clocks import FixedClock
from .fake_pxwebapi import FakePxWebApi


def run_ssb(catalogue: Catalogue, store: Store, server: FakePxWebApi, tmp_path: Path, at: datetime, *,
            force: bool = True, only: set[str] | None = None) -> FetchReport:
    """A run at `at` (forced unless told), with the fake's request counters reset first."""
    server.reset_counters()
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        return fetch_ssb(catalogue, store, client, clock=FixedClock(at), raw_dir=tmp_path / "raw", force=force,
                         only=only)


def stored(store: Store, indicator_id: str) -> dict[str, float | None]:
    """The latest value per period (rounded to 6 decimals), None for a status without a number."""
    return {v.period: None if v.value is None else round(v.value, 6) for v in store.latest(indicator_id)}
