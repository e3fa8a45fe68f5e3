"""The KOSTRA baseline: the cells of the handlingsprogram's KOSTRA tables, loaded by `monitor init` per region.

Stored like the indicator baseline: the vintage "Handlingsprogram 2024–2027", known from the day the kommunestyre
adopted it, as indicator_id "kostra.<row id>" for each region's store code (Asker and the peers under their current
codes, KOSTRA-gruppe 12 under EKG12, ASSS under its local code) and the period of the column (2021 or 2022).
"""

from __future__ import annotations

import csv
from datetime import datetime
from importlib import resources
from pathlib import Path

from monitor.seed.baseline import BASELINE_VINTAGE, printed, store_baseline
from monitor.core.errors import MonitorError
from monitor.catalogue.kostra import KostraCatalogue, kostra_path_for, load_kostra
from monitor.core.model import Observation
from monitor.store.database import Store

KOSTRA_BASELINE_TARGET = f"KOSTRA {BASELINE_VINTAGE}"  # the run-log target of the KOSTRA baseline load


def kostra_baseline_path() -> Path:
    """The KOSTRA baseline file shipped with the package (built by `monitor kostra baseline-build`)."""
    return Path(str(resources.files("monitor") / "data" / "kostra_baseline.csv"))


def read_kostra_baseline(kostra: KostraCatalogue, path: Path | None = None) -> list[Observation]:
    """The baseline file as observations; every row id and region code must be in kostra.yaml."""
    path = path or kostra_baseline_path()
    rows = {row.id: row for row in kostra.rows}
    regions = {region.store_code for region in kostra.regions}
    observations: list[Observation] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            if record["kostra_id"] not in rows:
                raise MonitorError(f"{path}:{line}: ukjent KOSTRA-rad {record['kostra_id']!r}")
            if record["region"] not in regions:
                raise MonitorError(f"{path}:{line}: ukjent region {record['region']!r}")
            try:
                value = float(record["value"])
            except ValueError as exc:
                raise MonitorError(f"{path}:{line}: verdien {record['value']!r} er ikke et tall") from exc
            observations.append(printed(rows[record["kostra_id"]].series_id, record["region"], record["period"], value))
    return observations


def load_kostra_baseline(store: Store, kostra: KostraCatalogue, now: datetime, path: Path | None = None) -> int:
    """Store the KOSTRA baseline vintage; idempotent (a second load writes nothing). Returns new vintages."""
    return store_baseline(store, read_kostra_baseline(kostra, path), KOSTRA_BASELINE_TARGET, now)


def kostra_next_to(catalogue_path: Path) -> KostraCatalogue | None:
    """kostra.yaml next to the indicator catalogue, validated; None when there is none (another kommune's set-up)."""
    path = kostra_path_for(catalogue_path)
    return load_kostra(path) if path.is_file() else None
