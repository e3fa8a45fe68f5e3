"""Paths and the time zone the tests share."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

TESTS = Path(__file__).resolve().parent.parent
FIXTURES = TESTS / "fixtures"
REPO = TESTS.parent
SEED_PATH = FIXTURES / "seed" / "handlingsprogram-2024-2027.txt"
OSLO = ZoneInfo("Europe/Oslo")
