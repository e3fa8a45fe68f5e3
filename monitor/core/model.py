"""Plain data that crosses layers: observations, stored vintages and run records. Imports nothing local."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Status symbols. SSB's own symbols are kept verbatim (see https://www.ssb.no/diverse/standardtegn-i-tabeller);
# the two handlingsprogram words get readable codes.
SSB_SYMBOLS = {
    ".": "ikke mulig å oppgi tall",
    "..": "tallgrunnlag mangler",
    "...": "oppgave mangler",
    ":": "vises ikke av konfidensialitetshensyn",
    "-": "null",
}
NOT_MEASURED = "not_measured"  # "Ikke målt"
PENDING = "pending"  # "Tall kommer"
# A cell the source left empty without any symbol (JSON-stat allows a null value with no status). Stored as this
# word of ours, never as one of the source's symbols: it claims no more than the source said.
NO_VALUE = "no_value"  # "mangler"
STATUS_WORDS = {NOT_MEASURED: "Ikke målt", PENDING: "Tall kommer", NO_VALUE: "mangler"}
MISSING_STATUSES = frozenset({"..", "...", NO_VALUE})  # no figure (yet): the period still counts as missing
KNOWN_STATUSES = frozenset(SSB_SYMBOLS) | frozenset(STATUS_WORDS)


CONTROL_KEY_SUFFIX = ":kontroll"


def control_key(indicator_id: str) -> str:
    """The store's series key of an indicator's control figure (issue 20; the catalogue's `control` block).

    A control figure is stored as observations under this key, never under the indicator's id: an id is only
    [a-z0-9_], so everything that reads an indicator's vintages by its id (evaluation, targets, progress, exports)
    never sees it, and there is no second kind of observation.
    """
    return f"{indicator_id}{CONTROL_KEY_SUFFIX}"


def period_year(period: str) -> int:
    """The year a period ends in: "2022" → 2022, "2018-2020" → 2020."""
    return int(period[-4:])


@dataclass(frozen=True)
class Observation:
    """One value (or status) for an indicator, region and period, as a source reported it."""

    indicator_id: str
    region: str
    period: str
    value: float | None
    status: str | None
    source: str
    source_updated: str | None = None

    def __post_init__(self) -> None:
        if self.value is None and self.status is None:
            raise ValueError(f"{self.indicator_id} {self.region} {self.period}: neither value nor status")
        if self.status is not None and not self.status.strip():
            raise ValueError(f"{self.indicator_id} {self.region} {self.period}: empty status")

    @property
    def key(self) -> tuple[str, str, str]:
        """The natural key (indicator, region, period)."""
        return (self.indicator_id, self.region, self.period)


@dataclass(frozen=True)
class Vintage:
    """A stored observation: one of possibly several values the key has had over time."""

    id: int
    indicator_id: str
    region: str
    period: str
    value: float | None
    status: str | None
    source: str
    source_updated: str | None
    retrieved_at: str
    vintage: str | None
    run_id: int | None


@dataclass(frozen=True)
class RunRecord:
    """What is known about one fetch or import when it is written to fetch_runs."""

    source: str
    target: str
    started_at: datetime
    finished_at: datetime
    actor: str | None = None
    file_name: str | None = None
    file_sha256: str | None = None
    raw_path: str | None = None
    raw_sha256: str | None = None


@dataclass(frozen=True)
class TableMeta:
    """What a source says about one of its tables."""

    source: str
    table_id: str
    label: str | None = None
    updated: str | None = None
    first_period: str | None = None
    last_period: str | None = None
    next_update: str | None = None
    discontinued: bool = False


@dataclass(frozen=True)
class Point:
    """A value for one period, or the status symbol that stands in for it."""

    value: float | None
    status: str | None = None

    @staticmethod
    def total(points: list[Point], missing: str = NO_VALUE) -> Point:
        """The sum of several cells of one period; a cell without a number makes the sum unknown (its status, or
        `missing`). One cell is returned as it is."""
        if len(points) == 1:
            return points[0]
        for point in points:
            if point.value is None:
                return Point(None, point.status or missing)
        return Point(sum(point.value for point in points if point.value is not None))


Series = dict[str, Point]  # period ("2022") → point
