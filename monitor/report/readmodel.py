"""What the overview page shows, read from the catalogue, the store and the evaluation.

Views call `overview()` and render what it returns: no SQL and no rules in the views. Everything the
page says about an indicator (badges, value text, series) is decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from monitor.catalogue.indicators import Catalogue, Indicator, SourceKind
from monitor.evaluate.indicator import (
    STATE_WORDS, TARGET_WORDS, Evaluation, State, TargetStatus, missing_text, period_year, show,
)
from monitor.evaluate.progress import PROGRESS_WORDS, ProgressStatus
from monitor.core.model import Vintage
from monitor.report.readcache import kommune_reads
from monitor.report.status import describe_status
from monitor.store.database import Store

SOURCE_WORDS = {
    SourceKind.SSB: "SSB", SourceKind.FHI: "FHI", SourceKind.UDIR: "Udir", SourceKind.REGISTER: "Registre",
    SourceKind.SURVEY: "Spørreundersøkelser", SourceKind.OTHER: "Annet",
}
# The state filter: every state an active indicator can be in, and two badges that are not states.
STATE_FILTERS = {str(state.value): STATE_WORDS[state].capitalize() for state in State if state is not State.RETIRED}
STATE_FILTERS |= {"off_target": "Mål ikke nådd", "revised": "Revidert"}
# The progress filter (`?fremgang=…`, issue 18): every progress status, in the order of PROGRESS_WORDS.
PROGRESS_FILTERS = {str(status.value): word for status, word in PROGRESS_WORDS.items()}


@dataclass(frozen=True)
class Badge:
    """A short marker beside an indicator: `kind` is also its CSS class, `text` says it in words."""

    kind: str
    text: str
    detail: str | None = None  # a longer explanation (a title attribute)


@dataclass(frozen=True)
class SeriesPoint:
    """One period's latest number."""

    period: str
    value: float
    text: str  # Norwegian format with unit


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator in the overview."""

    indicator: Indicator
    evaluation: Evaluation
    value_text: str  # the latest number with its unit, or the latest status in words, or "Ingen tall"
    period: str | None  # the period `value_text` belongs to
    target_text: str | None
    target_word: str | None  # nådd / akseptabelt / ikke nådd (None without a target or a value)
    badges: list[Badge]
    points: list[SeriesPoint]

    @property
    def is_placeholder(self) -> bool:
        return False

    @property
    def filter_keys(self) -> set[str]:
        """Every state-filter value this indicator matches."""
        late = {State.LATE.value} if self.evaluation.missing else set()  # failing and late: found under both
        return {self.evaluation.state.value} | late | {badge.kind for badge in self.badges}

    @property
    def progress_status(self) -> ProgressStatus | None:
        """The progress status (issue 18), None only for an evaluation made without one."""
        progress = self.evaluation.progress
        return progress.status if progress is not None else None


@dataclass(frozen=True)
class PlaceholderLine:
    """A row that is not an indicator yet ("Indikator under utvikling", "Rapporteres kvalitativt")."""

    text: str

    @property
    def is_placeholder(self) -> bool:
        return True


Line = IndicatorLine | PlaceholderLine


@dataclass
class DelmalGroup:
    name: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class HovedmalGroup:
    name: str
    delmal: list[DelmalGroup] = field(default_factory=list)


@dataclass
class AreaGroup:
    name: str
    slug: str
    hovedmal: list[HovedmalGroup] = field(default_factory=list)

    @property
    def indicator_count(self) -> int:
        return sum(1 for h in self.hovedmal for d in h.delmal for line in d.lines if not line.is_placeholder)


@dataclass(frozen=True)
class Filters:
    """The overview's filters, each None when absent or not a known value (so any input is harmless)."""

    area: str | None = None
    state: str | None = None
    source: str | None = None
    progress: str | None = None  # a ProgressStatus value, from `?fremgang=`

    @classmethod
    def parse(cls, args: Mapping[str, str], catalogue: Catalogue) -> Filters:
        areas = {area_slug(i.area) for i in catalogue.indicators}
        sources = {kind.value for kind in SourceKind}

        def pick(name: str, allowed: set[str] | dict[str, str]) -> str | None:
            value = args.get(name)
            return value if isinstance(value, str) and value in allowed else None

        return cls(pick("area", areas), pick("state", STATE_FILTERS), pick("source", sources),
                   pick("fremgang", PROGRESS_FILTERS))

    @property
    def active(self) -> bool:
        return any((self.area, self.state, self.source, self.progress))

    def admits(self, line: IndicatorLine) -> bool:
        """True when an indicator passes every filter."""
        return (
            (self.area is None or area_slug(line.indicator.area) == self.area)
            and (self.state is None or self.state in line.filter_keys)
            and (self.source is None or line.indicator.source.kind.value == self.source)
            and (self.progress is None or line.progress_status == self.progress)
        )


@dataclass(frozen=True)
class StateCount:
    key: str
    word: str
    count: int


@dataclass(frozen=True)
class Overview:
    """Everything on the overview page."""

    areas: list[AreaGroup]
    counts: list[StateCount]
    progress_counts: list[StateCount]  # per progress status, in the order of PROGRESS_WORDS (issue 18)
    total: int
    shown: int
    today: date
    data_per: str | None  # UTC ISO: the newest successful fetch or import
    filters: Filters
    area_options: list[tuple[str, str]]  # (slug, name)
    state_options: list[tuple[str, str]]
    source_options: list[tuple[str, str]]
    progress_options: list[tuple[str, str]]

    def lines(self) -> list[IndicatorLine]:
        """The indicators shown, in page order."""
        return [
            line for area in self.areas for head in area.hovedmal for sub in head.delmal for line in sub.lines
            if isinstance(line, IndicatorLine)
        ]


_FOLD = {ord("æ"): "ae", ord("ø"): "o", ord("å"): "a"}


def area_slug(name: str) -> str:
    """A URL-friendly key for a satsingsområde: "Handling mot klimaendringene" → "handling-mot-klimaendringene"."""
    folded = name.lower().translate(_FOLD)
    return "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in folded).split())


def latest_points(indicator: Indicator, vintages: list[Vintage]) -> list[SeriesPoint]:
    """The latest number of every period, oldest period first (periods with only a status are left out)."""
    latest: dict[str, Vintage] = {}
    for vintage in sorted(vintages, key=lambda v: (v.retrieved_at, v.id)):
        latest[vintage.period] = vintage
    return [
        SeriesPoint(period, v.value, show(indicator, v.value))
        for period, v in sorted(latest.items(), key=lambda item: (period_year(item[0]), item[0]))
        if v.value is not None
    ]


def badges(evaluation: Evaluation) -> list[Badge]:
    """The markers of an indicator: its state (unless ok), off target, revised."""
    state = evaluation.state
    found: list[Badge] = []
    if state is State.LATE:
        days = evaluation.late_days
        found.append(Badge("late", f"Forsinket {days} dager" if days else "Forsinket",
                           f"Tall for {missing_text(evaluation.missing or [str(evaluation.expected_period)])} mangler"))
    elif state is State.FETCH_FAILING:
        behind = f" · mangler {missing_text(evaluation.missing)}" if evaluation.missing else ""
        found.append(Badge("fetch_failing", f"Innhenting feiler{behind}"))
    elif state is not State.OK:
        found.append(Badge(state.value, STATE_WORDS[state].capitalize()))
    else:
        found.append(Badge("ok", "I rute"))
    if evaluation.target_status is TargetStatus.NOT_MET:
        found.append(Badge("off_target", "Mål ikke nådd"))
    if evaluation.revised:
        found.append(Badge("revised", "Revidert", "Endret siden handlingsprogrammet: " + ", ".join(evaluation.revised)))
    return found


def indicator_line(indicator: Indicator, evaluation: Evaluation, vintages: list[Vintage]) -> IndicatorLine:
    """One indicator as the overview (and the top of its own page) shows it."""
    points = latest_points(indicator, vintages)
    if evaluation.latest_value is not None:
        value_text = show(indicator, evaluation.latest_value)
        period = evaluation.latest_value_period
    elif evaluation.latest_status is not None:
        value_text, period = describe_status(evaluation.latest_status), evaluation.latest_period
    else:
        value_text, period = "Ingen tall", None
    has_judgement = evaluation.target_status is not TargetStatus.NONE
    return IndicatorLine(
        indicator=indicator, evaluation=evaluation, value_text=value_text, period=period,
        target_text=indicator.target.text if indicator.target else None,
        target_word=TARGET_WORDS[evaluation.target_status] if has_judgement else None,
        badges=badges(evaluation), points=points,
    )


def group_lines(catalogue: Catalogue, lines: dict[str, IndicatorLine], filters: Filters) -> list[AreaGroup]:
    """Satsingsområde → hovedmål → delmål in catalogue order, placeholders in their place, filters applied."""
    placeholders_after: dict[str | None, list[tuple[str, str, str, str]]] = {}
    for p in catalogue.placeholders:
        placeholders_after.setdefault(p.after, []).append((p.area, p.hovedmal, p.delmal, p.text))
    show_placeholders = filters.state is None and filters.source is None and filters.progress is None
    areas: dict[str, AreaGroup] = {}

    def place(area: str, hovedmal: str, delmal: str, line: Line) -> None:
        group = areas.setdefault(area, AreaGroup(area, area_slug(area)))
        head = next((h for h in group.hovedmal if h.name == hovedmal), None)
        if head is None:
            head = HovedmalGroup(hovedmal)
            group.hovedmal.append(head)
        sub = next((d for d in head.delmal if d.name == delmal), None)
        if sub is None:
            sub = DelmalGroup(delmal)
            head.delmal.append(sub)
        sub.lines.append(line)

    def place_placeholders(anchor: str | None, area: str | None = None) -> None:
        for p_area, p_hoved, p_del, text in placeholders_after.get(anchor, []):
            if show_placeholders and (area is None or p_area == area) and filters.area in (None, area_slug(p_area)):
                place(p_area, p_hoved, p_del, PlaceholderLine(text))

    first_of_area: set[str] = set()
    for indicator in catalogue.indicators:
        if indicator.area not in first_of_area:
            first_of_area.add(indicator.area)
            place_placeholders(None, indicator.area)  # placeholders that open their table
        line = lines[indicator.id]
        if filters.admits(line):
            place(indicator.area, indicator.hovedmal, indicator.delmal, line)
        place_placeholders(indicator.id)
    return list(areas.values())


def vintages_by_indicator(catalogue: Catalogue, store: Store) -> dict[str, list[Vintage]]:
    """Every vintage for the kommune's current code, per indicator."""
    found: dict[str, list[Vintage]] = {}
    for vintage in store.all_vintages(catalogue.municipality.current_code):
        found.setdefault(vintage.indicator_id, []).append(vintage)
    return found


def overview(catalogue: Catalogue, store: Store, now: datetime, args: Mapping[str, str]) -> Overview:
    """The overview page: every indicator evaluated now, grouped and filtered."""
    zone = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("Europe/Oslo")
    reads = kommune_reads(catalogue, store, now, zone)  # cached while the data, catalogue and day stay the same
    evaluations = reads.evaluations
    lines = reads.derived("overview.lines", lambda: {
        e.id: indicator_line(catalogue.get(e.id), e, reads.vintages.get(e.id, []))
        for e in evaluations
    })
    filters = Filters.parse(args, catalogue)
    areas = group_lines(catalogue, lines, filters)
    counts = [
        StateCount(state.value, STATE_WORDS[state].capitalize(), sum(1 for e in evaluations if e.state is state))
        for state in State if state is not State.RETIRED
    ]
    counts.append(StateCount("off_target", "Mål ikke nådd",
                             sum(1 for e in evaluations if e.target_status is TargetStatus.NOT_MET)))
    held = [e.progress.status for e in evaluations if e.progress is not None]
    progress_counts = [StateCount(status.value, word, held.count(status)) for status, word in PROGRESS_WORDS.items()]
    area_names = list(dict.fromkeys(i.area for i in catalogue.indicators))
    kinds = [kind for kind in SourceKind if any(i.source.kind is kind for i in catalogue.indicators)]
    return Overview(
        areas=areas, counts=counts, progress_counts=progress_counts, total=len(evaluations),
        shown=sum(area.indicator_count for area in areas), today=now.date(), data_per=store.newest_success(),
        filters=filters, area_options=[(area_slug(name), name) for name in area_names],
        state_options=list(STATE_FILTERS.items()),
        source_options=[(kind.value, SOURCE_WORDS[kind]) for kind in kinds],
        progress_options=list(PROGRESS_FILTERS.items()),
    )
