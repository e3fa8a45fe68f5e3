"""The baseline vintage: the 2019–2022 cells printed in Handlingsprogram 2024–2027, loaded by `monitor init`."""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo
from importlib import resources
from pathlib import Path

from monitor.catalogue.indicators import Catalogue
from monitor.core.errors import MonitorError
from monitor.core.model import KNOWN_STATUSES, Observation, RunRecord
from monitor.store.database import Store

BASELINE_VINTAGE = "Handlingsprogram 2024–2027"
BASELINE_SOURCE = "baseline"
# Adopted by the kommunestyre on 12 December 2023 (seed, line 11): the moment these values became known.
BASELINE_PUBLISHED = datetime(2023, 12, 12, tzinfo=ZoneInfo("Europe/Oslo"))


def baseline_path() -> Path:
    """The baseline data file shipped with the package (built by `monitor baseline-build`)."""
    return Path(str(resources.files("monitor") / "data" / "baseline.csv"))


def read_baseline(catalogue: Catalogue, path: Path | None = None) -> list[Observation]:
    """Read the baseline file into observations for the kommune's current code."""
    path = path or baseline_path()
    region = catalogue.municipality.current_code
    known = catalogue.by_id
    observations: list[Observation] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if row["indicator_id"] not in known:
                raise MonitorError(f"{path}:{line}: ukjent indikator-id {row['indicator_id']!r}")
            status = row["status"] or None
            if status is not None and status not in KNOWN_STATUSES:
                raise MonitorError(f"{path}:{line}: ukjent status {status!r}")
            value = float(row["value"]) if row["value"] else None
            observations.append(printed(row["indicator_id"], region, row["period"], value, status))
    return observations


def printed(indicator_id: str, region: str, period: str, value: float | None, status: str | None = None) -> Observation:
    """One printed cell as an observation of the baseline source, published the day the plan was adopted."""
    return Observation(indicator_id, region, period, value, status, BASELINE_SOURCE,
                       source_updated=BASELINE_PUBLISHED.date().isoformat())


def store_baseline(store: Store, observations: list[Observation], target: str, now: datetime) -> int:
    """Store printed cells as the baseline vintage, known from the adoption day; idempotent (a second load writes
    nothing). Returns the new vintages."""
    run = RunRecord(source=BASELINE_SOURCE, target=target, started_at=now, finished_at=now)
    _, new = store.write_run(
        run, observations, vintage=BASELINE_VINTAGE, retrieved_at=BASELINE_PUBLISHED, skip_if_unchanged=True
    )
    return new


def load_baseline(store: Store, catalogue: Catalogue, now: datetime, path: Path | None = None) -> int:
    """Store the baseline vintage; idempotent (a second load writes nothing). Returns new vintages."""
    return store_baseline(store, read_baseline(catalogue, path), BASELINE_VINTAGE, now)
