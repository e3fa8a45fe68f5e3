"""The indicator catalogue: pydantic models for indicators.yaml and its located validation."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.core.fetchspec import Derive, Expr, FetchSpec, FhiFetch, FhiSeries, PeriodMap, SsbFetch, SsbRegion, SsbSeries
from monitor.core.fetchspec import Municipality, UdirFetch, UdirSeries
from monitor.core.fetchspec_control import SsbControl

__all__ = [
    "BandsTarget", "Catalogue", "Derive", "Direction", "Expr", "FetchSpec", "FhiFetch", "FhiSeries", "Frequency", "Indicator",
    "Municipality", "PeriodMap", "Placeholder", "ProgressSettings", "Retired", "Source", "SourceKind", "SourceOwner", "SsbFetch", "SsbRegion",
    "SsbControl", "SsbSeries", "Target", "ThresholdTarget", "TrajectoryTarget", "UdirFetch", "UdirSeries", "Unit", "load_catalogue",
]
from monitor.catalogue.yamlpos import LineMap, read_mapping, validate_located


class SourceKind(StrEnum):
    """How an indicator's data reaches the monitor."""

    SSB = "ssb"  # Statistics Norway, PxWebApi (KOSTRA included)
    FHI = "fhi"  # Kommunehelse statistikkbank (FHI Statistikk open API)
    UDIR = "udir"  # Utdanningsdirektoratet (Elevundersøkelsen, Foreldreundersøkelsen, statistikkbanken)
    REGISTER = "register"  # registers and bodies with no API (Asker kommune, PAI, Bedre vann, NKOM, …)
    SURVEY = "survey"  # surveys with no API (Ungdata, KS, Sentio, Folkehelseundersøkelsen, RVU)
    OTHER = "other"  # no source yet ("Under utvikling")


class Frequency(StrEnum):
    """How often a source publishes a new period (from the Frekvens column)."""

    ANNUAL = "annual"  # Årlig
    BIENNIAL = "biennial"  # Hvert andre år
    TRIENNIAL = "triennial"  # Hvert tredje år
    QUADRENNIAL = "quadrennial"  # Hvert fjerde år
    SPORADIC = "sporadic"  # Sporadisk
    UNKNOWN = "unknown"  # Ukjent


class Unit(StrEnum):
    """What kind of number an indicator is; decides the allowed range of a value."""

    SHARE = "share"  # a percentage of a whole, 0–100
    PERCENT = "percent"  # a percentage that may be negative or above 100 (growth, ratios)
    PERCENTAGE_POINTS = "percentage_points"  # a difference of two percentages
    COUNT = "count"  # a number of things, >= 0
    RATE = "rate"  # per 1000 inhabitants, per km², …, >= 0
    AMOUNT = "amount"  # a quantity with a physical or money unit (kr/m², GWh, µg/m3), >= 0
    SCALE = "scale"  # a survey score on a bounded scale, see `scale`
    RANK = "rank"  # a placing where 1 is best, >= 1
    INDEX = "index"  # any real number (skolebidragsindikator)


class Direction(StrEnum):
    """Which way is better."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NONE = "none"


_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

class Source(BaseModel):
    """Where the data comes from: kind, the exact Kilde text and, for SSB, the table number(s)."""

    model_config = _STRICT

    kind: SourceKind
    name: str = Field(min_length=1)
    table: str | list[str] | None = None
    # a printed table SSB has replaced → its successor, which `fetch` may use instead (e.g. "10314": "14490")
    replaced_by: dict[str, str] = {}

    @field_validator("table")
    @classmethod
    def _five_digits(cls, value: str | list[str] | None) -> str | list[str] | None:
        for number in [value] if isinstance(value, str) else value or []:
            if not re.fullmatch(r"\d{5}", number):
                raise ValueError(f"tabellnummeret {number!r} må være fem sifre i anførselstegn, f.eks. \"01222\"")
        return value

    @model_validator(mode="after")
    def _table_matches_kind(self) -> Source:
        if self.kind is SourceKind.SSB and not self.table:
            raise ValueError("en SSB-kilde må ha `table` (det femsifrede tabellnummeret, eller en liste)")
        if self.kind is not SourceKind.SSB and self.table is not None:
            raise ValueError(f"`table` gjelder bare SSB-kilder, ikke kind '{self.kind.value}'")
        stray = sorted(set(self.replaced_by) - set(self.tables))
        if stray:
            raise ValueError(f"`replaced_by` nevner tabell(er) som ikke står i `table`: {', '.join(stray)}")
        for number in self.replaced_by.values():
            if not re.fullmatch(r"\d{5}", number):
                raise ValueError(f"`replaced_by`: tabellnummeret {number!r} må være fem sifre i anførselstegn")
        return self

    @property
    def tables(self) -> list[str]:
        """The SSB table numbers as a list (empty for other kinds)."""
        if self.table is None:
            return []
        return [self.table] if isinstance(self.table, str) else list(self.table)

    @property
    def fetch_tables(self) -> list[str]:
        """The tables a `fetch` may use: the printed ones, each replaced by its successor where SSB replaced it."""
        return [self.replaced_by.get(table, table) for table in self.tables]


class BandsTarget(BaseModel):
    """The handlingsregler: ønsket / laveste akseptable / ikke godkjent, as two thresholds.

    With higher_is_better: value > desired is met (ønsket), acceptable <= value <= desired is
    acceptable (laveste akseptable), below acceptable is not met (ikke godkjent). Mirrored for
    lower_is_better.
    """

    model_config = _STRICT

    kind: Literal["bands"]
    desired: float
    acceptable: float
    text: str = Field(min_length=1)


class ThresholdTarget(BaseModel):
    """A single threshold: met or not met."""

    model_config = _STRICT

    kind: Literal["threshold"]
    op: Literal[">", ">=", "<", "<="]
    value: float
    text: str = Field(min_length=1)


class TrajectoryTarget(BaseModel):
    """A change by a target year against a base year, judged against the straight-line path."""

    model_config = _STRICT

    kind: Literal["trajectory"]
    base_year: int = Field(ge=1990, le=2100)
    target_year: int = Field(ge=1990, le=2100)
    change_percent: float = Field(ge=-100)
    base_value: float | None = None
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _years_ordered(self) -> TrajectoryTarget:
        if self.target_year <= self.base_year:
            raise ValueError("target_year må være etter base_year")
        return self


Target = Annotated[BandsTarget | ThresholdTarget | TrajectoryTarget, Field(discriminator="kind")]


class ProgressSettings(BaseModel):
    """How progress towards the target is measured (issue 18; docs/progress.md): the first year counted."""

    model_config = _STRICT

    base_year: int = Field(ge=1990, le=2100)  # default 2019, the first column of the handlingsprogram's tables


class Indicator(BaseModel):
    """One active indicator of the handlingsprogram."""

    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    name: str = Field(min_length=1)
    metadata_name: str | None = None  # the name as printed in "Metadata om indikatorene", where it differs
    area: str = Field(min_length=1)
    hovedmal: str = Field(min_length=1)
    delmal: str = Field(min_length=1)
    source: Source
    frequency: Frequency
    lag: int | None = Field(default=None, ge=1, le=5)  # years of lag ("Etterslep")
    unit: Unit
    symbol: str | None = None  # printed after the number: "%", "kr/m²", "GWh", "µg/m3", "kg/m2"
    scale: tuple[int, int] | None = None
    decimals: int = Field(ge=0, le=3)
    direction: Direction
    target: Target | None = None
    progress: ProgressSettings | None = None  # progress towards the target; without it from 2019
    notes: str | None = None
    import_reason: str | None = Field(default=None, min_length=1)  # why it is imported, not fetched (bokmål, one line)
    # where the source's definition differs from the plan's (e.g. SSB's konsern against the kommune's own accounts):
    # bokmål, shown on the indicator page and in /api/indicators/<id>
    definition_note: str | None = Field(default=None, min_length=1)
    fetch: FetchSpec | None = None  # how an online indicator is fetched (required for kind ssb)
    # a control figure: fetched and stored beside the (imported) value, never the value (monitor.core.fetchspec_control)
    control: SsbControl | None = None

    @field_validator("name", "area", "hovedmal", "delmal")
    @classmethod
    def _no_markup(cls, value: str) -> str:
        if re.search(r"</?[a-z]+>", value):
            raise ValueError("skal ikke inneholde HTML-tagger (skriv m² for m <sup>2</sup>)")
        if value != value.strip():
            raise ValueError("skal ikke begynne eller slutte med mellomrom")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if (self.unit is Unit.SCALE) != (self.scale is not None):
            raise ValueError("`scale` kreves for enheten 'scale' og er ikke tillatt for andre enheter")
        if self.scale is not None and not self.scale[0] < self.scale[1]:
            raise ValueError("`scale` må være [lav, høy] med lav < høy")
        if self.source.kind is SourceKind.SSB and self.fetch is None:
            raise ValueError("en SSB-indikator må ha `fetch` (serier og verdi)")
        # a fetch block belongs to the source kind of its name, or to the one it declares (MiljodirFetch: register)
        if self.fetch is not None and getattr(self.fetch, "source_kind", self.fetch.kind) != self.source.kind.value:
            raise ValueError(f"`fetch` av kind '{self.fetch.kind}' passer ikke til kilden '{self.source.kind.value}'")
        if isinstance(self.fetch, SsbFetch):
            used = {s.table for s in self.fetch.series.values()}  # a cross_check may read any table
            stray = sorted(used - set(self.source.tables) - set(self.source.fetch_tables))
            if stray:
                raise ValueError(
                    f"`fetch` bruker tabell(er) som ikke står i source.table eller source.replaced_by: {', '.join(stray)}"
                )
        return self

    @field_validator("target")
    @classmethod
    def _target_fits_direction(cls, target: Target | None, info: ValidationInfo) -> Target | None:
        direction = info.data.get("direction")
        if isinstance(target, BandsTarget) and direction is not None:
            if direction is Direction.NONE:
                raise ValueError("et mål med bånd (bands) krever en retning (direction)")
            higher = direction is Direction.HIGHER_IS_BETTER
            if (target.desired <= target.acceptable) if higher else (target.desired >= target.acceptable):
                raise ValueError("bands: `desired` må ligge på den gode siden av `acceptable`")
        return target

    @property
    def is_online(self) -> bool:
        """True when a fetcher feeds this indicator; False when it is fed by import."""
        return self.fetch is not None

    @property
    def path(self) -> str:
        """How the data arrives, as shown by `monitor status`."""
        return f"fetch:{self.fetch.kind}" if self.fetch is not None else "import"

    @property
    def control_source(self) -> str | None:
        """The source of the indicator's control figure ("ssb"), or None without one."""
        return self.control.kind if self.control is not None else None


class Placeholder(BaseModel):
    """A table row that is not an indicator yet ("Indikator under utvikling", "Rapporteres kvalitativt")."""

    model_config = _STRICT

    text: Literal["Indikator under utvikling", "Rapporteres kvalitativt"]
    area: str = Field(min_length=1)
    hovedmal: str = Field(min_length=1)
    delmal: str = Field(min_length=1)
    after: str | None = None  # id of the indicator row it follows in its table; None = first row


class Retired(BaseModel):
    """An indicator that left the set ("Indikatorer som utgår fra 2024"); its id is never reused."""

    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    name: str = Field(min_length=1)
    comment: str | None = None


EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


class SourceOwner(BaseModel):
    """Who answers for a source (a Kilde text, as in `source.name`): late data is mailed to them, ops in copy."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    owner: str
    # False: the address is a placeholder nobody has confirmed reads it; alerts for the source go to ops
    # (MONITOR_ALERT_TO) with a note instead, and `monitor alerts test` and /kilder list it.
    confirmed: bool = True

    @field_validator("owner")
    @classmethod
    def _email(cls, value: str) -> str:
        if len(value) > 254 or not EMAIL.fullmatch(value) or ".." in value:
            raise ValueError(f"{value!r} er ikke en gyldig e-postadresse")
        return value


class Catalogue(BaseModel):
    """The whole of indicators.yaml."""

    model_config = _STRICT

    municipality: Municipality
    indicators: list[Indicator]
    placeholders: list[Placeholder] = []
    retired: list[Retired] = []
    sources: list[SourceOwner] = []  # owners of sources, for alerts; a source not listed has none

    def owner_of(self, source_name: str) -> str | None:
        """The owner's e-mail address of a source (by its Kilde text), or None."""
        entry = self.source_owner(source_name)
        return entry.owner if entry is not None else None

    def source_owner(self, source_name: str) -> SourceOwner | None:
        """The `sources` entry of a source (by its Kilde text), confirmed or not, or None."""
        for entry in self.sources:
            if entry.name == source_name:
                return entry
        return None

    @property
    def unconfirmed_owners(self) -> list[SourceOwner]:
        """The owners marked `confirmed: false`: nothing is sent to them (their alerts go to ops)."""
        return [entry for entry in self.sources if not entry.confirmed]

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id; KeyError if there is none."""
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(indicator_id)

    @property
    def by_id(self) -> dict[str, Indicator]:
        """Indicators keyed by id, in catalogue order."""
        return {indicator.id: indicator for indicator in self.indicators}


DEFAULT_PATH = Path("indicators.yaml")


def load_catalogue(path: Path | str = DEFAULT_PATH) -> Catalogue:
    """Read and validate a catalogue file; raise CatalogueError listing every problem, located."""
    path = Path(path)
    data, lines = read_mapping(path, "katalogen", "`municipality` og `indicators`")

    return validate_located(Catalogue, data, lambda error: _describe(path, data, lines, error),
                            _cross_item_problems(path, data, lines))


def _item_label(data: dict[str, Any], section: str, index: int) -> str:
    items = data.get(section)
    item = items[index] if isinstance(items, list) and index < len(items) else None
    noun = {"indicators": "indikator", "retired": "utgått indikator", "placeholders": "plassholder",
            "sources": "kilde"}.get(section, section)
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return f"{noun} '{item['id']}' (#{index + 1})"
    return f"{noun} #{index + 1}"


def _describe(path: Path, data: dict[str, Any], lines: LineMap, error: Any) -> str:
    loc = tuple(error["loc"])
    # pydantic adds the union member's tag to the location of discriminated-union errors; drop it.
    clean = tuple(part for part in loc if part not in ("bands", "threshold", "trajectory", "str", "list[str]"))
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        clean += ("kind",)
    line = lines.line_for(clean)
    where = f"{path}:{line}"
    if len(clean) >= 2 and clean[0] in ("indicators", "retired", "placeholders", "sources") and isinstance(clean[1], int):
        label = _item_label(data, str(clean[0]), clean[1])
        field = ".".join(str(part) for part in clean[2:]) or "(item)"
    else:
        label = "katalog"
        field = ".".join(str(part) for part in clean) or "(toppnivå)"
    return f"{where}: {label} → {field}: {_message(error)}"


def _message(error: Any) -> str:
    """pydantic's error in bokmål, for the error types a catalogue editor meets."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if kind == "extra_forbidden":
        return "ukjent felt"
    if kind == "missing":
        return "obligatorisk felt mangler"
    if kind in ("enum", "literal_error"):
        return f"ugyldig verdi {given!r}; tillatt: {str(ctx.get('expected', '?')).replace(' or ', ' eller ')}"
    if kind == "string_pattern_mismatch":
        return f"verdien {given!r} passer ikke mønsteret {ctx.get('pattern', '?')}"
    if kind in ("int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"):
        return f"må være et tall, ikke {given!r}"
    if kind in ("string_type", "list_type", "dict_type", "model_type", "tuple_type"):
        wanted = {"string_type": "tekst", "list_type": "en liste", "dict_type": "en mapping",
                  "model_type": "en mapping", "tuple_type": "en liste"}[kind]
        return f"må være {wanted}, ikke {given!r}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"verdien {given!r} er utenfor tillatt område ({error['msg']})"
    if kind in ("string_too_short", "too_short"):
        return "kan ikke være tom"
    if kind == "union_tag_invalid":
        return f"ugyldig kind {ctx.get('tag', given)!r}; tillatt: {ctx.get('expected_tags', '?')}"
    if kind == "union_tag_not_found":
        return "mangler `kind`"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _cross_item_problems(path: Path, data: dict[str, Any], lines: LineMap) -> list[str]:
    """Checks that span items: duplicate ids (active and retired), placeholder anchors."""
    problems: list[str] = []
    first_seen: dict[str, tuple[str, int]] = {}
    for section in ("indicators", "retired"):
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            ident = item["id"]
            line = lines.line_for((section, index, "id"))
            if ident in first_seen:
                other_section, other_line = first_seen[ident]
                problems.append(
                    f"{path}:{line}: {_item_label(data, section, index)} → id: id-en er brukt før, "
                    f"i {other_section} på linje {other_line}"
                )
            else:
                first_seen[ident] = (section, line)
    indicator_area = {
        item["id"]: item.get("area")
        for item in data.get("indicators") or []
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
    problems += _source_owner_problems(path, data, lines)
    for index, item in enumerate(data.get("placeholders") or []):
        if not isinstance(item, dict) or item.get("after") is None:
            continue
        anchor = item["after"]
        line = lines.line_for(("placeholders", index, "after"))
        if anchor not in indicator_area:
            problems.append(f"{path}:{line}: plassholder #{index + 1} → after: ingen indikator med id '{anchor}'")
        elif indicator_area[anchor] != item.get("area"):
            problems.append(f"{path}:{line}: plassholder #{index + 1} → after: '{anchor}' hører til et annet satsingsområde")
    return problems


def _source_owner_problems(path: Path, data: dict[str, Any], lines: LineMap) -> list[str]:
    """Each `sources` entry names a Kilde text some indicator uses, once."""
    items = data.get("sources")
    if not isinstance(items, list):
        return []
    used = {
        item["source"].get("name")
        for item in data.get("indicators") or []
        if isinstance(item, dict) and isinstance(item.get("source"), dict)
    }
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        line = lines.line_for(("sources", index, "name"))
        if name in seen:
            problems.append(f"{path}:{line}: kilde #{index + 1} → name: {name!r} står før, på linje {seen[name]}")
        else:
            seen[name] = line
        if name not in used:
            problems.append(f"{path}:{line}: kilde #{index + 1} → name: ingen indikator har kilden {name!r}")
    return problems
