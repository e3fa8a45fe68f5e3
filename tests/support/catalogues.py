"""The production catalogue's sizes, for the few tests of a whole-catalogue behaviour (init, status, the overview).

Those tests derive their expected counts from here rather than hard-coding them, so adding an indicator to
indicators.yaml breaks only the catalogue's own tests (test_catalogue, test_indicators_yaml, test_seed, …).
"""

from __future__ import annotations

from functools import cache

from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.seed.baseline import read_baseline

from .paths import REPO

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
