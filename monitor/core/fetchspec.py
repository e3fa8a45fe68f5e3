"""How online indicators are fetched: the kommune and its code history, the catalogue's `fetch` blocks per source,
named transforms, and the view of a catalogue that the fetchers read (`CatalogueView`)."""

from __future__ import annotations

from enum import StrEnum
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

_STRICT: ConfigDict = ConfigDict(extra="forbid", frozen=True)


# dimension → the source's label of the selected code (a string, when the dimension selects one code), or value code →
# label (any number of the selected codes). A label may be a distinctive part of the source's label: it matches when it
# is a case-insensitive, whitespace-normalised substring of the label the source gives the code.
Labels = dict[str, str | dict[str, str]]


def _check_labels(labels: Labels, select: Any) -> None:
    """Every labelled dimension is in `select`, every labelled code is selected there, and no label is blank."""
    for dimension, given in labels.items():
        if dimension not in select:
            raise ValueError(f"`labels.{dimension}`: dimensjonen står ikke i `select`")
        chosen = select[dimension]
        codes = [chosen] if isinstance(chosen, str) else list(chosen)
        if isinstance(given, str):
            if len(codes) != 1:
                raise ValueError(
                    f"`labels.{dimension}`: dimensjonen velger {len(codes)} koder; gi etiketten per kode "
                    "({kode: etikett})"
                )
            given = {codes[0]: given}
        for code, label in given.items():
            if code not in codes:
                raise ValueError(f"`labels.{dimension}`: koden {code!r} er ikke valgt i `select.{dimension}`")
            if not label.strip():
                raise ValueError(f"`labels.{dimension}.{code}`: etiketten er tom")


def expected_labels(labels: Labels, select: Any) -> list[tuple[str, str, str]]:
    """(dimension, code, expected label) for every label given, in the order of `select` and its codes."""
    found: list[tuple[str, str, str]] = []
    for dimension, chosen in select.items():
        given = labels.get(dimension)
        if given is None:
            continue
        codes = [chosen] if isinstance(chosen, str) else list(chosen)
        by_code = {codes[0]: given} if isinstance(given, str) else given
        found += [(dimension, code, by_code[code]) for code in codes if code in by_code]
    return found


class MunicipalityCode(BaseModel):
    """One code in the kommune's code history, valid for the given years (inclusive)."""

    model_config = _STRICT

    code: str = Field(pattern=r"^\d{4}$")
    first_year: int | None = None
    last_year: int | None = None


class Municipality(BaseModel):
    """The kommune the catalogue belongs to, with its code history."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    codes: list[MunicipalityCode] = Field(min_length=1)

    @model_validator(mode="after")
    def _contiguous(self) -> Municipality:
        for before, after in zip(self.codes, self.codes[1:]):
            if before.last_year is None or after.first_year != before.last_year + 1:
                raise ValueError(f"kodehistorikken må være sammenhengende: {before.code} og så {after.code}")
        if self.codes[0].first_year is not None or self.codes[-1].last_year is not None:
            raise ValueError("den første koden har ikke first_year, og den gjeldende koden har ikke last_year")
        return self

    @property
    def current_code(self) -> str:
        """The code in use now (the last one)."""
        return self.codes[-1].code

    def code_for(self, year: int) -> str:
        """The code that was valid in `year`."""
        for entry in self.codes:
            if (entry.first_year is None or entry.first_year <= year) and (
                entry.last_year is None or year <= entry.last_year
            ):
                return entry.code
        raise ValueError(f"ingen kode for {self.name} i {year}")


class SsbRegion(BaseModel):
    """How the kommune is selected in an SSB table.

    With `codelist` and `code` (e.g. agg_KommSummer / "K-3203") one series on today's borders is
    asked for and stored under the kommune's current code. Without them, the kommune's code history
    is asked for (0220, 3025, 3203) and each year keeps the value of the code valid that year.
    """

    model_config = _STRICT

    dimension: str = Field(default="Region", min_length=1)  # KOSTRA: KOKkommuneregion0000
    codelist: str | None = None
    code: str | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> SsbRegion:
        if (self.codelist is None) != (self.code is None):
            raise ValueError("`codelist` og `code` må oppgis sammen")
        return self


class PeriodMap(StrEnum):
    """How an SSB time code becomes the indicator's period."""

    YEAR = "year"  # "2022" → "2022"
    Q4 = "q4"  # "2022K4" → "2022"; other quarters are not used
    SPAN_END = "span_end"  # "2021-2022" → "2022" (two-year averages)


class SsbByLabel(BaseModel):
    """A value chosen by its label in the table's metadata instead of by its code: `{label: "Disposisjonsfond"}`.

    For a code no evidence has shown. The code is the one value of the dimension whose label is `label`, compared
    case-insensitively with runs of whitespace as one space, the WHOLE label (no prefix, no pattern: a part of a
    label could pick a sibling such as «Disposisjonsfond, konsern»). It is looked up in the table's metadata before
    the data request on every run; no match, or more than one, fails that indicator alone (fetchers.ssb_codes).
    """

    model_config = _STRICT

    label: str = Field(min_length=1)

    @field_validator("label")
    @classmethod
    def _not_blank(cls, label: str) -> str:
        if not label.strip():
            raise ValueError("etiketten er tom")
        return label


class SsbSeries(BaseModel):
    """One series from one SSB table: one value code for each dimension other than region and time.

    A dimension may instead list several value codes; the series is then the sum of those cells (e.g.
    all dwelling types of 05940), or name its one value by label (`SsbByLabel`, `{label: "…"}`), resolved against
    the table's metadata on every run. `codelists` applies a codelist to a dimension other than the region
    (e.g. NACE2007: agg_NACE2007arb11); its value codes are then the codelist's, output aggregated.
    """

    model_config = _STRICT

    table: str = Field(pattern=r"^\d{5}$")
    region: SsbRegion = SsbRegion()
    # dimension code → value code, a list of value codes whose cells are summed, or {label: …} (SsbByLabel);
    # ContentsCode is required
    select: dict[str, str | list[str] | SsbByLabel] = Field(min_length=1)
    codelists: dict[str, str] = {}  # dimension code (not region, not time) → codelist id
    time_dimension: str = "Tid"
    period: PeriodMap = PeriodMap.YEAR
    first_year: int = Field(default=2015, ge=1950, le=2100)
    labels: Labels = {}  # what the selected codes mean: SSB's label of each (see `Labels`)
    unit: str | None = Field(default=None, min_length=1)  # SSB's unit of the ContentsCode (category.unit[code].base)

    @field_validator("select")
    @classmethod
    def _contents_code(cls, select: dict[str, str | list[str] | SsbByLabel]) -> dict[str, str | list[str] | SsbByLabel]:
        if "ContentsCode" not in select:
            raise ValueError("`select` må ha ContentsCode (SSB krever alltid en statistikkvariabel)")
        for dimension, codes in select.items():
            if isinstance(codes, list) and (not codes or len(set(codes)) != len(codes)):
                raise ValueError(f"`select.{dimension}`: en liste må ha minst én kode og ingen kode to ganger")
        return select

    @model_validator(mode="after")
    def _dimensions_apart(self) -> SsbSeries:
        special = {self.region.dimension, self.time_dimension}
        if special & set(self.select):
            raise ValueError("`select` skal ikke ha region- eller tidsdimensjonen")
        stray = sorted(set(self.codelists) - set(self.select))
        if stray:
            raise ValueError(f"`codelists` gjelder dimensjoner som ikke står i `select`: {', '.join(stray)}")
        twice = sorted(set(self.labels) & set(self.by_label()))
        if twice:
            raise ValueError(f"`labels.{twice[0]}`: dimensjonen velges alt med `label` i `select`")
        through = sorted(set(self.codelists) & set(self.by_label()))
        if through:
            raise ValueError(f"`select.{through[0]}`: en verdi gjennom en kodeliste kan ikke velges med `label`")
        _check_labels(self.labels, self.by_code())
        return self

    def expected_labels(self) -> list[tuple[str, str, str]]:
        """(dimension, code, expected label) for every labelled code of `select` (chosen by code)."""
        return expected_labels(self.labels, self.by_code())

    def by_code(self) -> dict[str, str | list[str]]:
        """The dimensions `select` names by code (one code or a list)."""
        return {dimension: chosen for dimension, chosen in self.select.items() if not isinstance(chosen, SsbByLabel)}

    def by_label(self) -> dict[str, str]:
        """Dimension → label, for the dimensions `select` names by label."""
        return {dimension: chosen.label for dimension, chosen in self.select.items() if isinstance(chosen, SsbByLabel)}

    def codes(self, dimension: str) -> list[str]:
        """The value codes selected for a dimension of `select`, as a list.

        A dimension chosen by label has no code until it is resolved (`with_codes`): ValueError.
        """
        chosen = self.select[dimension]
        if isinstance(chosen, SsbByLabel):
            raise ValueError(
                f"tabell {self.table}: `select.{dimension}` er valgt med etiketten «{chosen.label}», "
                "som må slås opp i tabellens metadata først"
            )
        return [chosen] if isinstance(chosen, str) else list(chosen)

    def with_codes(self, found: dict[str, str]) -> SsbSeries:
        """The series with each dimension chosen by label replaced by its code (`found`: dimension → code); the
        label becomes that code's expected label, so the data response is checked against it too."""
        labels = {**self.labels, **{dimension: self.by_label()[dimension] for dimension in found}}
        return self.model_copy(update={"select": {**self.select, **found}, "labels": labels})


class Derive(BaseModel):
    """A named transform over series: never an evaluated string.

    growth: (x[t] / x[t-n] - 1) * 100; change: x[t] - x[t-n], with n = `years` (default 1; e.g. 4 for an
    election against the same election four years before); ratio: a / b * factor; share: a / b * 100;
    sum: a + b + …; scale: x * factor + offset (offset only for scale, e.g. 100 - x as factor -1, offset 100);
    merge: the union of two or more series whose periods do not overlap (e.g. kommunestyrevalg and
    stortingsvalg years); a period in more than one of them fails the fetch rather than choosing one;
    weighted_mean: (a·wa + b·wb + …) / (wa + wb + …) with `weights` [wa, wb, …] (one per `of`; without
    `weights`, the plain mean), e.g. two grades' scores weighted by their numbers of respondents.
    """

    model_config = _STRICT

    op: Literal["growth", "change", "ratio", "share", "sum", "scale", "merge", "weighted_mean"]
    of: list[Expr] = Field(min_length=1)
    factor: float = 1.0
    offset: float = 0.0
    years: int = Field(default=1, ge=1, le=50)  # growth/change: how many years back the base period is
    weights: list[Expr] = []  # weighted_mean only: one weight series per `of`

    @model_validator(mode="after")
    def _arity(self) -> Derive:
        wanted = {"growth": 1, "change": 1, "scale": 1, "ratio": 2, "share": 2}.get(self.op)
        if wanted is not None and len(self.of) != wanted:
            raise ValueError(f"`{self.op}` tar {wanted} argument(er), fikk {len(self.of)}")
        if self.op in ("sum", "merge") and len(self.of) < 2:
            raise ValueError(f"`{self.op}` tar minst 2 argumenter")
        if self.offset != 0.0 and self.op != "scale":
            raise ValueError("`offset` gjelder bare `scale`")
        if self.years != 1 and self.op not in ("growth", "change"):
            raise ValueError("`years` gjelder bare `growth` og `change`")
        if self.weights and self.op != "weighted_mean":
            raise ValueError("`weights` gjelder bare `weighted_mean`")
        if self.op == "weighted_mean" and self.weights and len(self.weights) != len(self.of):
            raise ValueError(
                f"`weighted_mean` tar én vekt per argument: {len(self.of)} argumenter, {len(self.weights)} vekter"
            )
        return self

    def series_names(self) -> set[str]:
        """Every series name the expression uses."""
        names: set[str] = set()
        for item in [*self.of, *self.weights]:
            names |= {item} if isinstance(item, str) else item.series_names()
        return names


Expr = Annotated[str | Derive, Field(union_mode="left_to_right")]
Derive.model_rebuild()


def _check_series_use(value: Expr, names: set[str]) -> None:
    used = {value} if isinstance(value, str) else value.series_names()
    unknown = sorted(used - names)
    if unknown:
        raise ValueError(f"`value` bruker ukjente serier: {', '.join(unknown)}")
    unused = sorted(names - used)
    if unused:
        raise ValueError(f"serier som ikke brukes i `value`: {', '.join(unused)}")


class SsbCrossCheck(BaseModel):
    """A second SSB series that should give the same figures as one series of the fetch (e.g. 12134 against 12143).

    Never stored and never part of the value: `monitor validate --online` fetches both and reports every year in
    which both have a number and they differ by more than `tolerance` (in the series' own unit).
    """

    model_config = _STRICT

    against: str = Field(min_length=1)  # the name of a series of the same fetch block
    series: SsbSeries
    tolerance: float = Field(default=0.05, ge=0)


class SsbFetch(BaseModel):
    """How an SSB indicator is fetched: named series, and the value as a series or a transform of them."""

    model_config = _STRICT

    kind: Literal["ssb"] = "ssb"
    series: dict[str, SsbSeries] = Field(min_length=1)
    value: Expr
    cross_check: SsbCrossCheck | None = None

    @model_validator(mode="after")
    def _known_series(self) -> SsbFetch:
        _check_series_use(self.value, set(self.series))
        if self.cross_check is not None and self.cross_check.against not in self.series:
            raise ValueError(f"`cross_check.against`: ukjent serie {self.cross_check.against!r}")
        return self


class FhiSeries(BaseModel):
    """One series from one FHI Statistikk table (`table` is "<sourceId>/<tableId>", e.g. "nokkel/369").

    Or the table is found by title on every run: `table` "<sourceId>/<name>" (a lowercase name, e.g.
    "nokkel/stonad", the run-log name) with `title`, a part of the title in FHI's table list that exactly one
    table of the source has (fetchers.fhi_titles; none or several fails that table alone).

    `select` names a category code for **every** dimension of the table other than geography and time
    (FHI answers 400 when a dimension of the table is left out of the data request), the measure
    dimension (`measure_dimension`, "MEASURE_TYPE": RATE, MEIS, SMR, TELLER, …) included. A dimension
    may list several codes; the series is then the sum of those cells.

    Geography: FHI recodes whole series to today's kommune structure before it publishes, so one code
    serves every year: `geo_code`, or by default the kommune's current code (3203 for Asker).

    Periods: FHI's period codes are "from_to". A single year "2020_2020" becomes "2020"; a multi-year
    (rolling) average "2018_2020" keeps the span it covers and becomes "2018-2020" ("YYYY-YYYY", the
    form the rest of the product reads for such periods). A period is kept when its last year is
    `first_year` or later. Which printed year of the handlingsprogram a rolling period stands for is
    not assumed here.
    """

    model_config = _STRICT

    table: str = Field(pattern=r"^[a-z][a-z0-9]*/(\d+|[a-z][a-z0-9_]*)$")
    title: str | None = Field(default=None, min_length=1)  # with a named table only: a part of its title
    geo_dimension: str = Field(default="GEO", min_length=1)
    geo_code: str | None = Field(default=None, pattern=r"^\d{1,6}$")
    time_dimension: str = Field(default="AAR", min_length=1)
    measure_dimension: str = Field(default="MEASURE_TYPE", min_length=1)
    select: dict[str, str | list[str]] = Field(min_length=1)
    first_year: int = Field(default=2015, ge=1950, le=2100)
    labels: Labels = {}  # what the selected codes mean: FHI's label of each (see `Labels`)
    unit: str | None = Field(default=None, min_length=1)  # FHI's unit of the measure (category.unit[code].label)

    @field_validator("select")
    @classmethod
    def _codes_listed(cls, select: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for dimension, codes in select.items():
            if isinstance(codes, list) and (not codes or len(set(codes)) != len(codes)):
                raise ValueError(f"`select.{dimension}`: en liste må ha minst én kode og ingen kode to ganger")
        return select

    @model_validator(mode="after")
    def _dimensions_apart(self) -> FhiSeries:
        if {self.geo_dimension, self.time_dimension} & set(self.select):
            raise ValueError("`select` skal ikke ha geografi- eller tidsdimensjonen")
        if self.measure_dimension not in self.select:
            raise ValueError(f"`select` må ha {self.measure_dimension} (hvilket måltall: RATE, MEIS, SMR, TELLER …)")
        if self.table_id.isdigit() == (self.title is not None):
            raise ValueError("`title` hører til en tabell gitt ved navn (nokkel/stonad), aldri ved id (nokkel/369)")
        _check_labels(self.labels, self.select)
        return self

    def expected_labels(self) -> list[tuple[str, str, str]]:
        """(dimension, code, expected label) for every labelled code of `select`."""
        return expected_labels(self.labels, self.select)

    @property
    def source_id(self) -> str:
        """FHI's sourceId, e.g. "nokkel"."""
        return self.table.split("/")[0]

    @property
    def table_id(self) -> str:
        """FHI's tableId within the source, e.g. "369" (or the name of a table found by `title`)."""
        return self.table.split("/")[1]

    def codes(self, dimension: str) -> list[str]:
        """The category codes selected for a dimension of `select`, as a list."""
        chosen = self.select[dimension]
        return [chosen] if isinstance(chosen, str) else list(chosen)


class FhiFetch(BaseModel):
    """How an FHI indicator is fetched."""

    model_config = _STRICT

    kind: Literal["fhi"]
    series: dict[str, FhiSeries] = Field(min_length=1)
    value: Expr

    @model_validator(mode="after")
    def _known_series(self) -> FhiFetch:
        _check_series_use(self.value, set(self.series))
        return self


def _fetch_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "ssb"))
    return str(getattr(value, "kind", "ssb"))


from monitor.core.fetchspec_miljodir import MiljodirFetch  # noqa: E402  (imports nothing from here)

from monitor.core.fetchspec_barnehagefakta import BarnehagefaktaFetch  # noqa: E402  (imports nothing from here)

from monitor.core.fetchspec_udir import UdirByLabel, UdirFetch, UdirFilter, UdirSeries  # noqa: E402,F401  (re-exported)

FetchSpec = Annotated[
    Annotated[SsbFetch, Tag("ssb")] | Annotated[FhiFetch, Tag("fhi")] | Annotated[UdirFetch, Tag("udir")]
    | Annotated[MiljodirFetch, Tag("miljodir")] | Annotated[BarnehagefaktaFetch, Tag("barnehagefakta")],
    Discriminator(_fetch_kind),
]


class FetchedIndicator(Protocol):
    """What a fetcher reads of an indicator: its id and its fetch block."""

    @property
    def id(self) -> str: ...

    @property
    def fetch(self) -> FetchSpec | None: ...


class CatalogueView(Protocol):
    """What a fetcher reads of the catalogue (monitor.catalogue's Catalogue is one): the kommune and the indicators."""

    @property
    def municipality(self) -> Municipality: ...

    @property
    def indicators(self) -> Sequence[FetchedIndicator]: ...
