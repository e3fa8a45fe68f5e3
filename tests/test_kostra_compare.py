"""Asker's rank among its peer kommuner and the freshness of a KOSTRA row: the pure rules of the comparison."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.catalogue.indicators import Direction
from monitor.evaluate.kostra import rank_among, row_freshness

LOWER = Direction.LOWER_IS_BETTER
HIGHER = Direction.HIGHER_IS_BETTER


def test_lower_is_better_ranks_the_cheapest_first() -> None:
    # Brutto driftsutgifter per km vei (printed 2022): Asker 139 386, Bærum 174 431, Drammen 135 097, Lillestrøm 98 612.
    rank = rank_among(139386, {"Bærum": 174431, "Drammen": 135097, "Lillestrøm": 98612}, LOWER, 0)
    assert (rank.position, rank.of, rank.better, rank.worse) == (3, 4, 2, 1)
    assert rank.text == "3 av 4" and rank.standing == "middle" and not rank.tied and rank.missing == ()


def test_higher_is_better_and_best_and_worst() -> None:
    best = rank_among(45.1, {"Bærum": 44.0, "Drammen": 40.2, "Lillestrøm": 41.7}, HIGHER, 1)
    assert (best.position, best.standing, best.text) == (1, "best", "1 av 4")
    worst = rank_among(38.0, {"Bærum": 44.0, "Drammen": 40.2, "Lillestrøm": 41.7}, HIGHER, 1)
    assert (worst.position, worst.standing) == (4, "worst")


def test_ties_share_the_better_place_as_printed() -> None:
    # 5,8 against 5,8 and 5,9 (higher is better here): Asker shares place 2 with Drammen; nobody is third.
    rank = rank_among(5.8, {"Bærum": 5.9, "Drammen": 5.8, "Lillestrøm": 5.6}, HIGHER, 1)
    assert (rank.position, rank.of, rank.tied, rank.text) == (2, 4, True, "2 av 4 (delt)")
    assert rank.standing == "middle"
    # Figures that print alike are a tie: 5,84 and 5,76 both print 5,8 with one decimal.
    close = rank_among(5.84, {"Bærum": 5.76}, LOWER, 1)
    assert (close.position, close.tied, close.standing) == (1, True, "equal")
    # With two decimals they differ, and the lower one is better.
    apart = rank_among(5.84, {"Bærum": 5.76}, LOWER, 2)
    assert (apart.position, apart.tied, apart.standing) == (2, False, "worst")
    # Tied for best is best; tied for worst is worst.
    tied_best = rank_among(10, {"Bærum": 10, "Drammen": 12}, LOWER, 0)
    assert (tied_best.position, tied_best.standing, tied_best.text) == (1, "best", "1 av 3 (delt)")
    tied_worst = rank_among(10, {"Bærum": 10, "Drammen": 12}, HIGHER, 0)
    assert (tied_worst.position, tied_worst.standing, tied_worst.text) == (2, "worst", "2 av 3 (delt)")


def test_missing_peers_are_left_out_and_named() -> None:
    rank = rank_among(97.2, {"Bærum": None, "Drammen": 95.0, "Lillestrøm": None}, HIGHER, 1)
    assert (rank.position, rank.of, rank.missing) == (1, 2, ("Bærum", "Lillestrøm"))
    assert rank.standing == "best"
    assert "Uten sammenlignbart tall: Bærum, Lillestrøm." in rank.explanation
    alone = rank_among(97.2, {"Bærum": None, "Drammen": None}, HIGHER, 1)
    assert (alone.position, alone.of, alone.standing) == (1, 1, "unranked")


def test_asker_without_a_figure_has_no_place() -> None:
    rank = rank_among(None, {"Bærum": 1.0, "Drammen": 2.0}, HIGHER, 1)
    assert (rank.position, rank.of, rank.text, rank.standing) == (None, 2, "–", "unranked")
    assert rank.explanation == "Asker har ikke tall for året."


def test_a_row_without_a_direction_is_ranked_by_size_and_never_coloured() -> None:
    rank = rank_among(173362, {"Bærum": 186859, "Drammen": 183356, "Lillestrøm": 181403}, Direction.NONE, 0)
    assert (rank.position, rank.of, rank.by_size, rank.standing) == (4, 4, True, "unranked")
    assert "etter størrelse, høyest først" in rank.explanation


@pytest.mark.parametrize(
    "newest,fetched,failing,today,state,expected",
    [
        # 27.11.2026: 2025 was due 15.03.2026.
        (2025, True, False, date(2026, 11, 27), "fresh", 2025),
        (2024, True, False, date(2026, 11, 27), "late", 2025),
        (2022, True, False, date(2026, 11, 27), "late", 2025),
        (2022, False, False, date(2026, 11, 27), "manual", 2025),
        (2025, False, False, date(2026, 11, 27), "fresh", 2025),
        (None, True, False, date(2026, 11, 27), "empty", 2025),
        (2024, True, True, date(2026, 11, 27), "failing", 2025),
        (2025, True, True, date(2026, 11, 27), "failing", 2025),
        # The day before the release 2025 is not yet expected; in the week of grace after it, it is due.
        (2024, True, False, date(2026, 3, 14), "fresh", 2024),
        (2024, True, False, date(2026, 3, 15), "due", 2025),
        (2024, True, False, date(2026, 3, 22), "due", 2025),
        (2024, True, False, date(2026, 3, 23), "late", 2025),
        (2023, True, False, date(2026, 3, 16), "late", 2025),
    ],
)
def test_freshness_follows_kostras_15_march_calendar(
    newest: int | None, fetched: bool, failing: bool, today: date, state: str, expected: int
) -> None:
    freshness = row_freshness(newest, fetched=fetched, failing=failing, today=today)
    assert (freshness.state, freshness.expected_year) == (state, expected)
    assert freshness.due_from == date(expected + 2, 3, 15)
