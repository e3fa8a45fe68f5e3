"""Shared fixtures: a fresh store, a fixed clock, the catalogues. Support code lives in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.store.database import Store
from support.paths import FIXTURES, OSLO, REPO


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)


@pytest.fixture
def small_catalogue() -> Catalogue:
    return load_catalogue(FIXTURES / "catalogue" / "small.yaml")


@pytest.fixture
def real_catalogue() -> Catalogue:
    return load_catalogue(REPO / "indicators.yaml")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as opened:
        opened.migrate()
        yield opened
