"""The rules of the KOSTRA peer comparison: Asker's rank among its peer kommuner and the freshness of a row.

Pure functions: the caller passes the figures, the fetch state and today.

Rank: Asker and the peer kommuner (not the groups, which are averages) with a figure for the year, ranked best
first by the row's direction; a row without a direction is ranked by size, highest first, and never coloured.
Figures are compared as printed (rounded to the row's decimals), so two figures that print alike are a tie, and
tied kommuner share the better place (1, 2, 2, 4). A peer with no figure is left out and named.

Freshness: KOSTRA publishes year Y on 15 March of Y+1 (monitor.catalogue.releases). A row is fresh when Asker has a figure
for the newest year that should exist today, "due" in the week of grace after the release day, late after it,
failing when the last fetch of its table failed, and "manual" when no SSB series is known for it (only the printed
figures or imports can fill it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from monitor.catalogue.indicators import Direction, Frequency
from monitor.catalogue.releases import KOSTRA_PRELIMINARY, due_date, expected_latest, grace_end

Standing = Literal["best", "worst", "middle", "equal", "unranked"]
Freshness = Literal["fresh", "due", "late", "failing", "manual", "empty"]

STANDING_WORDS: dict[str, str] = {
    "best": "Best blant kommunene",
    "worst": "Svakest blant kommunene",
    "middle": "Midt blant kommunene",
    "equal": "Likt med alle kommunene",
    "unranked": "Ikke rangert",
    "by_size": "Etter størrelse",  # a row without direction: placed by size, not judged (see PeerRank.category)
}
# Why a row is not ranked, said on the area page beside its "–" or "1 av 1" (issue 17 §15).
UNRANKED_REASONS = {"no_figure": "Asker har ikke tall", "alone": "ingen andre kommuner har tall"}
FRESHNESS_WORDS: dict[str, str] = {
    "fresh": "Oppdatert",
    "due": "Ventes nå",
    "late": "Forsinket",
    "failing": "Henting feiler",
    "manual": "Hentes ikke automatisk",
    "empty": "Ingen tall",
}


@dataclass(frozen=True)
class PeerRank:
    """Asker's place among the kommuner with a figure."""

    position: int | None  # 1 = best (or highest, by_size); None when Asker has no figure
    of: int  # kommuner ranked, Asker included
    better: int  # kommuner strictly better (or higher) than Asker
    worse: int  # kommuner strictly worse (or lower)
    missing: tuple[str, ...]  # peer kommuner without a comparable figure
    by_size: bool  # no direction: ranked by size, highest first

    @property
    def tied(self) -> bool:
        """Another kommune prints the same figure as Asker."""
        return self.position is not None and self.of - 1 - self.better - self.worse > 0

    @property
    def standing(self) -> Standing:
        """best / worst / middle / equal for a directed row with at least one peer figure; else unranked."""
        if self.position is None or self.of < 2 or self.by_size:
            return "unranked"
        if self.better == 0 and self.worse == 0:
            return "equal"
        if self.better == 0:
            return "best"
        if self.worse == 0:
            return "worst"
        return "middle"

    @property
    def category(self) -> str:
        """The one rule both KOSTRA pages use (issue 17 §15): the standing, except that a row without direction
        that Asker and at least one other kommune have figures for is "by_size" (placed by size, not judged);
        "unranked" is left for rows with no place at all (Asker without a figure, or alone)."""
        if self.by_size and self.position is not None and self.of >= 2:
            return "by_size"
        return self.standing

    @property
    def unranked_reason(self) -> str | None:
        """Why the row has no place, for an "unranked" row; else None."""
        if self.category != "unranked":
            return None
        return UNRANKED_REASONS["no_figure" if self.position is None else "alone"]

    @property
    def text(self) -> str:
        """"2 av 4", "1 av 4 (delt)", "–"."""
        if self.position is None:
            return "–"
        return f"{self.position} av {self.of}" + (" (delt)" if self.tied else "")

    @property
    def explanation(self) -> str:
        """What the rank means, in words, for screen readers and the tooltip."""
        if self.position is None:
            return "Asker har ikke tall for året."
        basis = "etter størrelse, høyest først (raden har ingen retning)" if self.by_size else "best først"
        parts = [f"Plass {self.position} av {self.of} kommuner med tall, {basis}."]
        if self.tied:
            parts.append("Delt plass: en annen kommune har samme tall.")
        if self.missing:
            parts.append(f"Uten sammenlignbart tall: {', '.join(self.missing)}.")
        return " ".join(parts)


def rank_among(
    home: float | None, peers: Mapping[str, float | None], direction: Direction, decimals: int
) -> PeerRank:
    """Asker's (`home`) place among the peer kommuner (name → figure, None when missing)."""
    missing = tuple(name for name, value in peers.items() if value is None)
    values = [round(value, decimals) for value in peers.values() if value is not None]
    if home is None:
        return PeerRank(None, len(values), 0, 0, missing, direction is Direction.NONE)
    mine = round(home, decimals)
    by_size = direction is Direction.NONE
    lower_first = direction is Direction.LOWER_IS_BETTER
    better = sum(1 for value in values if (value < mine if lower_first else value > mine))
    worse = sum(1 for value in values if (value > mine if lower_first else value < mine))
    return PeerRank(1 + better, 1 + len(values), better, worse, missing, by_size)


@dataclass(frozen=True)
class RowFreshness:
    """Whether Asker's figure of a row is as new as KOSTRA's calendar says it should be."""

    state: Freshness
    expected_year: int  # the newest year SSB should have published today
    newest_year: int | None  # the newest year with a figure for Asker
    due_from: date  # the release day of expected_year + 1, for "neste"

    @property
    def word(self) -> str:
        """The state in bokmål."""
        return FRESHNESS_WORDS[self.state]


def expected_kostra_year(today: date) -> int:
    """The newest year KOSTRA should have published on `today` (year Y on 15 March of Y+1)."""
    expected = expected_latest(KOSTRA_PRELIMINARY, Frequency.ANNUAL, 0, today, [])
    assert expected is not None  # the KOSTRA calendar always has an expected year
    return expected


def row_freshness(newest_year: int | None, *, fetched: bool, failing: bool, today: date) -> RowFreshness:
    """The freshness of one row on `today` (fetched: the row has an SSB series; failing: its last fetch failed)."""
    rule = KOSTRA_PRELIMINARY
    expected = expected_kostra_year(today)
    following = due_date(rule, expected + 1, 0)
    if newest_year is None:
        state: Freshness = "failing" if failing else "empty"
    elif newest_year >= expected:
        state = "failing" if failing else "fresh"
    elif failing:
        state = "failing"
    elif not fetched:
        state = "manual"
    elif newest_year == expected - 1 and today <= grace_end(rule, expected, 0):
        state = "due"
    else:
        state = "late"
    return RowFreshness(state, expected, newest_year, following)
