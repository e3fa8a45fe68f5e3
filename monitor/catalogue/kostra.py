"""The KOSTRA peer comparison: pydantic models for kostra.yaml and its located validation.

kostra.yaml declares the "KOSTRA-tall" tables that open each tjenesteområde chapter of the handlingsprogram: the
comparison regions (Asker and its peers, each with its code history in SSB's KOSTRA region dimension, and the two
groups), the columns, and per tjenesteområde the footnotes and the key-figure rows with their category, name as
printed, footnote marks, unit, decimals, direction and SSB series.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.catalogue.indicators import Direction, SsbSeries, Unit
from monitor.catalogue.indicators import _message as describe_error  # the catalogue's bokmål wording of pydantic errors
from monitor.catalogue.yamlpos import LineMap, read_mapping, validate_located

KOSTRA_REGION_DIMENSION = "KOKkommuneregion0000"
SERIES_PREFIX = "kostra."  # observations of a row are stored as indicator_id "kostra.<row id>"
NOMINAL_SUFFIX = ".nominal"  # SSB's own (not deflated, not need-adjusted) figure of a row printed with *) or **)
DEFAULT_PATH = Path("kostra.yaml")
KOSTRA_SOURCE = "ssb-kostra"  # the run-log source of KOSTRA fetches, apart from the indicator catalogue's "ssb"

_STRICT = ConfigDict(extra="forbid", frozen=True)
_ID = r"^[a-z][a-z0-9_]*$"
# "*)" not preceded by another "*": the deflator mark. "(kr *)" counts, "**)" does not.
_DEFLATED = re.compile(r"(?<!\*)\*\)")


class Category(StrEnum):
    """The category rows of a KOSTRA table, in the handlingsprogram's order."""

    PRIORITET = "prioritet"
    PRODUKTIVITET = "produktivitet"
    DEKNINGSGRAD = "dekningsgrad"
    KVALITET = "kvalitet"
    GRUNNLAGSDATA = "grunnlagsdata"
    ANDRE_NOKKELTALL = "andre_nokkeltall"
    KOMMUNEKASSE = "kommunekasse"

    @property
    def label(self) -> str:
        """The category row as printed."""
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.PRIORITET: "Prioritet",
    Category.PRODUKTIVITET: "Produktivitet",
    Category.DEKNINGSGRAD: "Dekningsgrad",
    Category.KVALITET: "Kvalitet",
    Category.GRUNNLAGSDATA: "Grunnlagsdata (Nivå 3)",
    Category.ANDRE_NOKKELTALL: "Andre nøkkeltall",
    Category.KOMMUNEKASSE: "Kommunekasse",
}


class RegionCode(BaseModel):
    """One code of a region in SSB's KOSTRA region dimension, valid for the given years (inclusive)."""

    model_config = _STRICT

    code: str = Field(pattern=r"^(\d{4}|E[A-Z]{1,5}\d{0,2})$")  # 3203, EKG12, EAKUO
    first_year: int | None = Field(default=None, ge=1950, le=2100)
    last_year: int | None = Field(default=None, ge=1950, le=2100)


class Region(BaseModel):
    """A comparison region: a kommune with its code history, or a group (KOSTRA-gruppe, ASSS)."""

    model_config = _STRICT

    id: str = Field(pattern=_ID, max_length=40)
    name: str = Field(min_length=1)
    kind: Literal["kommune", "group"]
    codes: list[RegionCode] = []  # empty: SSB has no code for it (ASSS is KS's average, not SSB's)
    local_code: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9]{2,11}$")  # the store code when codes is empty
    source: str | None = None  # where a region without an SSB code comes from
    notes: str | None = None

    @model_validator(mode="after")
    def _codes(self) -> Region:
        if bool(self.codes) == (self.local_code is not None):
            raise ValueError("en region har enten `codes` (SSB-koder) eller `local_code` (uten SSB-kode), ikke begge")
        if self.local_code is not None and not self.source:
            raise ValueError("en region uten SSB-kode må si hvor tallene kommer fra (`source`)")
        for before, after in zip(self.codes, self.codes[1:]):
            if before.last_year is None or after.first_year != before.last_year + 1:
                raise ValueError(f"kodehistorikken må være sammenhengende: {before.code} og så {after.code}")
        if self.codes and self.codes[-1].last_year is not None:
            raise ValueError("den gjeldende (siste) koden har ikke last_year")
        for entry in self.codes:
            if entry.first_year is not None and entry.last_year is not None and entry.first_year > entry.last_year:
                raise ValueError(f"{entry.code}: first_year etter last_year")
        return self

    @property
    def store_code(self) -> str:
        """The region code its observations are stored under: the current SSB code, or the local code."""
        if self.codes:
            return self.codes[-1].code
        assert self.local_code is not None
        return self.local_code

    @property
    def fetched(self) -> bool:
        """Whether SSB has the region (ASSS has no SSB code)."""
        return bool(self.codes)

    def code_for(self, year: int) -> str | None:
        """The SSB code valid in `year`, or None (before the region existed, or no SSB code)."""
        for entry in self.codes:
            if (entry.first_year is None or entry.first_year <= year) and (entry.last_year is None or year <= entry.last_year):
                return entry.code
        return None


class Column(BaseModel):
    """A value column: a region in a year relative to the table's year (Asker 2021 is asker at offset -1)."""

    model_config = _STRICT

    region: str = Field(pattern=_ID)
    offset: int = Field(default=0, ge=-5, le=0)
    label: str = Field(min_length=1)  # "{year}" is replaced by the column's year: "Asker {year}"

    def heading(self, year: int) -> str:
        """The column label for a table of `year`."""
        return self.label.replace("{year}", str(year + self.offset))


class Row(BaseModel):
    """One key-figure row of a KOSTRA table."""

    model_config = _STRICT

    id: str = Field(pattern=_ID, max_length=60)
    category: Category
    name: str = Field(min_length=1)  # exactly as printed, footnote marks included
    b_mark: bool = False  # the printed "(B)"
    deflated: bool = False  # the printed "*)": inflasjonsjustert med deflator
    need_adjusted: bool = False  # the printed "**)": justert for utgiftsbehov
    unit: Unit
    symbol: str | None = None  # printed after the number: "%"
    decimals: int = Field(ge=0, le=3)
    direction: Direction
    ssb: SsbSeries | None = None  # the SSB series: region dimension KOKkommuneregion0000, every peer at once
    not_fetched: str | None = None  # why there is no SSB series
    indicator: str | None = Field(default=None, pattern=_ID)  # the indicators.yaml indicator on the same subject
    notes: str | None = None

    @field_validator("ssb", mode="before")
    @classmethod
    def _kostra_region(cls, value: Any) -> Any:
        # Every KOSTRA series uses the KOSTRA region dimension and the peers' code histories; say it once here.
        if isinstance(value, dict):
            value = {"region": {"dimension": KOSTRA_REGION_DIMENSION}, "first_year": 2020, **value}
        return value

    @field_validator("name")
    @classmethod
    def _no_markup(cls, value: str) -> str:
        if re.search(r"</?[a-z]+>", value):
            raise ValueError("skal ikke inneholde HTML-tagger")
        if value != value.strip() or "  " in value:
            raise ValueError("skal ikke ha mellomrom først, sist eller doble mellomrom")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Row:
        marks = {
            "b_mark": "(B)" in self.name,
            "deflated": bool(_DEFLATED.search(self.name)),
            "need_adjusted": "**)" in self.name,
        }
        for field, printed in marks.items():
            if getattr(self, field) != printed:
                shown = {"b_mark": "(B)", "deflated": "*)", "need_adjusted": "**)"}[field]
                state = "står" if printed else "står ikke"
                raise ValueError(f"`{field}` er {getattr(self, field)}, men «{shown}» {state} i navnet")
        if (self.ssb is None) == (self.not_fetched is None):
            raise ValueError("en rad har enten `ssb` (serien hos SSB) eller `not_fetched` (hvorfor ikke)")
        if self.ssb is not None:
            if self.ssb.region.dimension != KOSTRA_REGION_DIMENSION or self.ssb.region.codelist is not None:
                raise ValueError(f"KOSTRA-serier bruker regiondimensjonen {KOSTRA_REGION_DIMENSION} uten kodeliste")
        return self

    @property
    def adjusted(self) -> bool:
        """Printed after a transformation SSB does not publish (deflated or adjusted for expenditure need)."""
        return self.deflated or self.need_adjusted

    @property
    def series_id(self) -> str:
        """The indicator_id of the printed figure in the store."""
        return SERIES_PREFIX + self.id

    @property
    def fetched_series_id(self) -> str:
        """Where SSB's figure is stored: the printed series, or its nominal twin when the print is adjusted."""
        return self.series_id + NOMINAL_SUFFIX if self.adjusted else self.series_id


class Area(BaseModel):
    """One tjenesteområde's table: its rows in printed order and the footnotes printed under it."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    footnotes: list[str] = []  # as printed (a typo such as "***)" kept)
    rows: list[Row] = Field(min_length=1)


class KostraCatalogue(BaseModel):
    """The whole of kostra.yaml."""

    model_config = _STRICT

    layout_year: int = Field(ge=2015, le=2100)  # the year of the printed tables (Asker 2022 and the peers' 2022)
    regions: list[Region] = Field(min_length=1)
    columns: list[Column] = Field(min_length=1)
    areas: list[Area] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> KostraCatalogue:
        ids = [region.id for region in self.regions]
        stores = [region.store_code for region in self.regions]
        for what, values in (("region-id", ids), ("lagringskode", stores)):
            twice = sorted({value for value in values if values.count(value) > 1})
            if twice:
                raise ValueError(f"{what} brukt flere ganger: {', '.join(twice)}")
        unknown = sorted({column.region for column in self.columns} - set(ids))
        if unknown:
            raise ValueError(f"kolonner viser til ukjente regioner: {', '.join(unknown)}")
        return self

    def region(self, region_id: str) -> Region:
        """The region with this id; KeyError if there is none."""
        for region in self.regions:
            if region.id == region_id:
                return region
        raise KeyError(region_id)

    @property
    def rows(self) -> list[Row]:
        """Every row, in printed order."""
        return [row for area in self.areas for row in area.rows]

    def area_of(self, row_id: str) -> str:
        """The tjenesteområde of a row."""
        for area in self.areas:
            if any(row.id == row_id for row in area.rows):
                return area.name
        raise KeyError(row_id)

    @property
    def fetched_series(self) -> list[tuple[Row, SsbSeries]]:
        """Every row with an SSB series, in printed order."""
        return [(row, row.ssb) for row in self.rows if row.ssb is not None]

    def unknown_indicators(self, known: set[str]) -> list[str]:
        """"<row id>: indicator <id>" for every row whose `indicator` is not among the catalogue's ids."""
        return [f"{row.id}: indikatoren {row.indicator} finnes ikke i katalogen" for row in self.rows
                if row.indicator is not None and row.indicator not in known]

    @property
    def fetched_tables(self) -> dict[str, int]:
        """The SSB tables the rows are fetched from, with how many rows each feeds."""
        tables: dict[str, int] = {}
        for _, series in self.fetched_series:
            tables[series.table] = tables.get(series.table, 0) + 1
        return tables

    @property
    def fetched_regions(self) -> list[Region]:
        """The regions SSB has (every one but ASSS)."""
        return [region for region in self.regions if region.fetched]


def kostra_path_for(catalogue_path: Path) -> Path:
    """kostra.yaml lives next to the indicator catalogue."""
    return catalogue_path.with_name(DEFAULT_PATH.name)


def load_kostra(path: Path | str = DEFAULT_PATH) -> KostraCatalogue:
    """Read and validate kostra.yaml; raise CatalogueError listing every problem as file:line: where → field: what."""
    path = Path(path)
    data, lines = read_mapping(path, "KOSTRA-filen", "`regions`, `columns` og `areas`")
    return validate_located(KostraCatalogue, data, lambda error: _describe(path, data, lines, error),
                            _duplicate_rows(path, data, lines))


def _label(data: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """Who an error is about, and the rest of its location (the field)."""
    if len(loc) >= 4 and loc[0] == "areas" and loc[2] == "rows" and isinstance(loc[1], int) and isinstance(loc[3], int):
        area = _item(data.get("areas"), loc[1])
        row = _item(area.get("rows") if isinstance(area, dict) else None, loc[3])
        where = f"{area.get('name', f'#{loc[1] + 1}')}" if isinstance(area, dict) else f"område #{loc[1] + 1}"
        ident = f"'{row['id']}' " if isinstance(row, dict) and isinstance(row.get("id"), str) else ""
        return f"KOSTRA-rad {ident}({where}, rad {loc[3] + 1})", loc[4:]
    if len(loc) >= 2 and loc[0] in ("areas", "regions", "columns") and isinstance(loc[1], int):
        item = _item(data.get(str(loc[0])), loc[1])
        noun = {"areas": "tjenesteområde", "regions": "region", "columns": "kolonne"}[str(loc[0])]
        key = "name" if loc[0] == "areas" else ("id" if loc[0] == "regions" else "label")
        ident = f" '{item[key]}'" if isinstance(item, dict) and isinstance(item.get(key), str) else ""
        return f"{noun}{ident} (#{loc[1] + 1})", loc[2:]
    return "KOSTRA-fil", loc


def _item(items: Any, index: int) -> Any:
    return items[index] if isinstance(items, list) and index < len(items) else None


def _describe(path: Path, data: dict[str, Any], lines: LineMap, error: Any) -> str:
    loc = tuple(part for part in error["loc"] if part not in ("str", "list[str]"))
    label, rest = _label(data, loc)
    field = ".".join(str(part) for part in rest) or "(hele)"
    return f"{path}:{lines.line_for(loc)}: {label} → {field}: {describe_error(error)}"


def _duplicate_rows(path: Path, data: dict[str, Any], lines: LineMap) -> list[str]:
    """Row ids must be unique across all tjenesteområder (they key the stored observations)."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for a, area in enumerate(data.get("areas") or []):
        if not isinstance(area, dict):
            continue
        for r, row in enumerate(area.get("rows") or []):
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                continue
            line = lines.line_for(("areas", a, "rows", r, "id"))
            if row["id"] in seen:
                label, _ = _label(data, ("areas", a, "rows", r))
                problems.append(f"{path}:{line}: {label} → id: id-en er brukt før, på linje {seen[row['id']]}")
            else:
                seen[row["id"]] = line
    return problems
