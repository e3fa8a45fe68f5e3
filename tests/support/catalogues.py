"""The catalogues the tests load: the production catalogue's sizes, and the behaviour tests' fixture catalogue.

Behaviour tests run on tests/fixtures/catalogue/behaviour.yaml (entries copied from indicators.yaml) and the
shipped baseline's rows for its indicators, so adding an indicator to indicators.yaml breaks only the catalogue's
own tests (test_catalogue, test_indicators_yaml, test_seed, …). The few tests of a whole-catalogue behaviour
derive their expected counts from the production catalogue here rather than hard-coding them.
"""

from __future__ import annotations

import csv
from datetime import datetime
from functools import cache
from pathlib import Path

from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.seed.baseline import baseline_path, load_baseline, read_baseline
from monitor.store.database import Store

from .paths import FIXTURES, REPO

PRODUCTION_CATALOGUE = REPO / "indicators.yaml"


@cache
def production_catalogue() -> Catalogue:
    return load_catalogue(PRODUCTION_CATALOGUE)


def indicator_count() -> int:
    """How many indicators indicators.yaml declares."""
    return len(production_catalogue().indicators)


def baseline_cell_count() -> int:
    """How many printed values the handlingsprogram baseline holds for the production catalogue."""
    return len(read_baseline(production_catalogue()))


BEHAVIOUR_CATALOGUE = FIXTURES / "catalogue" / "behaviour.yaml"
"""The fixture catalogue of the behaviour tests: real-shaped entries copied from indicators.yaml."""


def load_behaviour_catalogue() -> Catalogue:
    """A fresh copy of the behaviour tests' fixture catalogue."""
    return load_catalogue(BEHAVIOUR_CATALOGUE)


def baseline_for(catalogue: Catalogue, directory: Path) -> Path:
    """The shipped baseline's rows for the catalogue's indicators, written to directory/baseline.csv.

    A fixture catalogue holds a few of indicators.yaml's entries; its baseline is the printed cells of those,
    unchanged, so `monitor init` (MONITOR_BASELINE) and load_baseline see the handlingsprogram's own values.
    """
    known = catalogue.by_id
    with baseline_path().open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [row for row in reader if row["indicator_id"] in known]
    held = {row["indicator_id"] for row in rows}
    assert held, "the shipped baseline holds none of the catalogue's indicators"
    path = directory / "baseline.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def load_fixture_baseline(store: Store, catalogue: Catalogue, now: datetime, directory: Path) -> int:
    """load_baseline with the shipped baseline's rows for the catalogue's indicators (see baseline_for)."""
    return load_baseline(store, catalogue, now, baseline_for(catalogue, directory))
