"""Shared fixtures: a fresh store, a fixed clock, the catalogues, and the hermetic guards.

Support code lives in tests/support/. Every test runs with each source URL setting at a closed loopback port
and with a guard that fails it if it opens a connection off this machine (support/hermetic.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.store.database import Store
from support.catalogues import load_behaviour_catalogue
from support.hermetic import NetworkGuard, closed_port, source_url_env
from support.paths import FIXTURES, OSLO, REPO


@pytest.fixture(scope="session", autouse=True)
def closed_source_urls() -> Iterator[dict[str, str]]:
    """Every MONITOR_*_URL that points off this machine by default → a closed loopback port, for the session."""
    env = source_url_env(closed_port())
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


@pytest.fixture(scope="session", autouse=True)
def network_guard_installed() -> Iterator[NetworkGuard]:
    guard = NetworkGuard()
    guard.install()
    try:
        yield guard
    finally:
        guard.uninstall()


@pytest.fixture(autouse=True)
def network_guard(network_guard_installed: NetworkGuard) -> Iterator[NetworkGuard]:
    """Fails the test for every connection it (or a session fixture before it) tried to open off this machine."""
    yield network_guard_installed
    attempts = network_guard_installed.unreported()
    if attempts:
        pytest.fail("a test reached for the network off this machine:\n" + "\n".join(attempts), pytrace=False)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)


@pytest.fixture
def small_catalogue() -> Catalogue:
    return load_catalogue(FIXTURES / "catalogue" / "small.yaml")


@pytest.fixture
def behaviour_catalogue() -> Catalogue:
    """The behaviour tests' fixture catalogue (entries copied from indicators.yaml); see support/catalogues.py."""
    return load_behaviour_catalogue()


@pytest.fixture
def real_catalogue() -> Catalogue:
    return load_catalogue(REPO / "indicators.yaml")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as opened:
        opened.migrate()
        yield opened
