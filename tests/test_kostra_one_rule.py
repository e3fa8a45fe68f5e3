"""Issue 17 §15: the KOSTRA index and area pages count Asker's place by one rule and say it with one word."""

from __future__ import annotations

from monitor.catalogue.indicators import Direction
from monitor.evaluate.kostra import STANDING_WORDS, rank_among


def test_a_row_without_direction_is_placed_by_size_on_both_pages() -> None:
    rank = rank_among(5.0, {"Bærum": 3.0, "Drammen": 7.0}, Direction.NONE, 1)
    assert (rank.position, rank.of, rank.standing, rank.category) == (2, 3, "unranked", "by_size")
    assert rank.unranked_reason is None
    assert STANDING_WORDS["by_size"] == "Etter størrelse"


def test_only_rows_without_a_place_are_not_ranked() -> None:
    missing = rank_among(None, {"Bærum": 3.0}, Direction.HIGHER_IS_BETTER, 1)
    assert (missing.category, missing.unranked_reason) == ("unranked", "Asker har ikke tall")
    alone = rank_among(4.0, {"Bærum": None}, Direction.NONE, 1)
    assert (alone.category, alone.unranked_reason) == ("unranked", "ingen andre kommuner har tall")
    directed = rank_among(4.0, {"Bærum": 3.0}, Direction.HIGHER_IS_BETTER, 1)
    assert directed.category == directed.standing == "best"
