"""Shared fixtures: paths to fixture files, a fresh store, a fixed clock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.store.database import Store

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
SEED_PATH = FIXTURES / "seed" / "handlingsprogram-2024-2027.txt"
OSLO = ZoneInfo("Europe/Oslo")


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


def file_digest(path: Path) -> str:
    """sha256 of a database file and its WAL, to prove a database is byte-for-byte unchanged."""
    digest = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    return digest.hexdigest()


def observations_checksum(store: Store) -> str:
    """sha256 over every stored vintage, to prove a failed run changed no number."""
    rows = store.conn.execute("SELECT * FROM observations ORDER BY id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


class FixedClock:
    """A settable "now" for the pipeline's clock argument."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class SleepClock:
    """monotonic() and sleep() for the HTTP client's throttle and backoff: sleeping only advances time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
