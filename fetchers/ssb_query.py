"""The catalogue's SSB fetch blocks as PxWebApi v2 queries: one selection per table, and the checks against metadata.

`build_selections` turns every `fetch` series of the catalogue into one selection per table (the union of what the
series need), `selection_body` renders a selection as the body of `POST /tables/{id}/data`, and
`check_series_against_metadata` says what a series asks for that a table's metadata (or a data response) lacks. That
last check is what `monitor validate --online` runs against the live metadata and what the tests run against the
fixtures in tests/fixtures/ssb-v2/.

The POST body follows PxWebApi 2 (PxTools/PxApiSpecs PxAPI-2.yml `VariablesSelection`):
`{"selection": [{"variableCode", "codelist", "outputValues", "valueCodes"}], "placement": {"heading", "stub"}}`.
The spec spells the codelist key `codeList`; SSB's own client (statisticsnorway/mimir, a 12362 POST body in
`…/highcharts/data/test/mockData.ts`) and other public v2 clients send `codelist`, which the server binds
case-insensitively. `outputValues` ("aggregated" | "single") is a member of the generated `VariableSelection`
(PxTools/PxWeb2@75638ef libs/pxweb2-api-client/src/models/VariableSelection.ts); "aggregated" is sent for every
`agg_` codelist, as the GET form `outputValues[Region]=aggregated` of the public SSB examples does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from fetchers.meaning import LabelOf, meaning_problems, metadata_label_of, metadata_unit_of
from fetchers.ssb_codes import check_series, metadata_categories
from monitor.core.fetchspec import CatalogueView, Municipality, PeriodMap, SsbFetch, SsbSeries

AGGREGATED = "aggregated"


@dataclass(frozen=True)
class Selection:
    """One PxWebApi v2 query for one table: value codes (or one expression) per dimension, in order.

    Immutable (read-only mappings); it compares by value but cannot be hashed.
    """

    table: str
    values: Mapping[str, tuple[str, ...]]  # dimension → value codes, or a single expression such as "from(2019)"
    codelists: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # dimension → codelist id
    time_dimension: str = "Tid"
    region_dimension: str = "Region"

    @property
    def cells(self) -> int | None:
        """The number of cells asked for, or None when a dimension is an expression (unknown until SSB answers)."""
        total = 1
        for codes in self.values.values():
            if any(_is_expression(code) for code in codes):
                return None
            total *= len(codes)
        return total


def period_of(code: str, period_map: PeriodMap) -> str | None:
    """The indicator period of an SSB time code, or None when the series does not use the code (e.g. 2022K2)."""
    if period_map is PeriodMap.YEAR:
        return code if re.fullmatch(r"\d{4}", code) else None
    if period_map is PeriodMap.Q4:
        match = re.fullmatch(r"(\d{4})K4", code)
        return match.group(1) if match else None
    match = re.fullmatch(r"\d{4}-(\d{4})", code)
    return match.group(1) if match else None


def _first_code(first_year: int, period_map: PeriodMap) -> str:
    """The time code of the first period a series wants, for a `from(…)` expression."""
    if period_map is PeriodMap.Q4:
        return f"{first_year}K4"
    if period_map is PeriodMap.SPAN_END:
        return f"{first_year - 1}-{first_year}"  # UNVERIFIED: 08487's two-year code format
    return str(first_year)


def _is_expression(code: str) -> bool:
    return "(" in code or "*" in code or "?" in code


def region_codes(series: SsbSeries, municipality: Municipality) -> list[str]:
    """The region value codes a series asks for: its codelist code, or the code history from its first year on."""
    if series.region.code is not None:
        return [series.region.code]
    return [
        entry.code
        for entry in municipality.codes
        if entry.last_year is None or entry.last_year >= series.first_year
    ]


def all_series(catalogue: CatalogueView) -> list[tuple[str, str, SsbSeries]]:
    """(indicator id, series name, series) for every fetch series of the catalogue, in catalogue order."""
    return [
        (indicator.id, name, series)
        for indicator in catalogue.indicators
        if isinstance(indicator.fetch, SsbFetch)
        for name, series in indicator.fetch.series.items()
    ]


def build_selections(
    catalogue: CatalogueView, metadata: Mapping[str, Mapping[str, Any]] | None = None,
    *, members: list[tuple[str, str, SsbSeries]] | None = None,
) -> dict[str, Selection]:
    """One selection per table: the union of the codes every series of that table needs.

    With a table's metadata (`GET /tables/{id}/metadata`), the time codes are the explicit list of the table's
    codes the series use (from the earliest first_year to the table's last period) and the dimensions follow the
    table's order; without it, time is one `from(<first code>)` expression. Raises ValueError when two series of a
    table disagree on something one query cannot hold (region dimension, codelist, time dimension).

    `members` (indicator id, series name, series) replaces the catalogue's series: the fetch passes the series it
    checked, with every label already resolved. Otherwise a series choosing a value by label is resolved against
    the table's metadata, and left out when there is none or the label does not resolve (fetchers.ssb_codes).
    """
    grouped: dict[str, list[tuple[str, str, SsbSeries]]] = {}
    for indicator_id, name, series in all_series(catalogue) if members is None else members:
        if series.by_label():
            meta = (metadata or {}).get(series.table)
            checked = check_series(series, metadata_categories(meta)) if meta is not None else None
            if checked is None or checked.series is None:
                continue
            series = checked.series
        grouped.setdefault(series.table, []).append((indicator_id, name, series))
    return {
        table: _selection(table, members, catalogue.municipality, (metadata or {}).get(table))
        for table, members in sorted(grouped.items())
    }


def _selection(
    table: str,
    members: list[tuple[str, str, SsbSeries]],
    municipality: Municipality,
    meta: Mapping[str, Any] | None,
) -> Selection:
    def agree(what: str, values: set[Any]) -> Any:
        return agreed(table, "seriene", what, values)

    all_members = [series for _, _, series in members]
    region_dimension = agree("regiondimensjonen", {s.region.dimension for s in all_members})
    time_dimension = agree("tidsdimensjonen", {s.time_dimension for s in all_members})
    agree("regionens kodeliste", {s.region.codelist for s in all_members})
    codelists: dict[str, str] = {}
    region_codelist = all_members[0].region.codelist
    if region_codelist is not None:
        codelists[region_dimension] = region_codelist
    values: dict[str, list[str]] = {region_dimension: []}
    for series in all_members:
        for code in region_codes(series, municipality):
            if code not in values[region_dimension]:
                values[region_dimension].append(code)
        for dimension in series.select:
            chosen = values.setdefault(dimension, [])
            for code in series.codes(dimension):
                if code not in chosen:
                    chosen.append(code)
            codelist = series.codelists.get(dimension)
            if codelists.get(dimension, codelist) != codelist or (dimension in codelists and codelist is None):
                raise ValueError(f"tabell {table}: seriene er uenige om kodelisten for {dimension}")
            if codelist is not None:
                codelists[dimension] = codelist
    # a dimension one series reads through a codelist and another reads plainly cannot share one query
    for dimension, codelist in codelists.items():
        if dimension == region_dimension:
            continue
        if any(dimension in s.select and dimension not in s.codelists for s in all_members):
            raise ValueError(f"tabell {table}: seriene er uenige om kodelisten for {dimension} ({codelist})")
    values[time_dimension] = time_codes(table, all_members, time_dimension, meta)
    return ordered_selection(table, values, time_dimension, region_dimension, meta, codelists)


def agreed(table: str, members: str, what: str, values: set[Any]) -> Any:
    """The one value every series of a table's query agrees on; ValueError naming the table and the values else."""
    if len(values) != 1:
        shown = ", ".join(sorted(str(value) for value in values))
        raise ValueError(f"tabell {table}: {members} er uenige om {what} ({shown}); det går ikke i én spørring")
    return next(iter(values))


def ordered_selection(
    table: str, values: dict[str, list[str]], time_dimension: str, region_dimension: str,
    meta: Mapping[str, Any] | None, codelists: Mapping[str, str] | None = None,
) -> Selection:
    """The selection, in the table's own order of dimensions and of codes (unknown ones last) when its metadata is
    known, else in the order given."""
    order = list(values)
    if meta is not None:
        known = [dimension for dimension in meta.get("id", []) if dimension in values]
        order = known + [dimension for dimension in order if dimension not in known]
        for dimension, chosen in values.items():
            index = ((meta.get("dimension") or {}).get(dimension) or {}).get("category", {}).get("index")
            if isinstance(index, dict):
                chosen.sort(key=lambda code: (code not in index, index.get(code, 0)))
    return Selection(
        table=table,
        values=MappingProxyType({dimension: tuple(values[dimension]) for dimension in order}),
        codelists=MappingProxyType(dict(codelists or {})),
        time_dimension=time_dimension,
        region_dimension=region_dimension,
    )


def time_codes(
    table: str, members: list[SsbSeries], time_dimension: str, meta: Mapping[str, Any] | None
) -> list[str]:
    maps = {series.period for series in members}
    if len(maps) != 1:
        raise ValueError(f"tabell {table}: seriene bruker ulike periodekart ({', '.join(sorted(maps))})")
    period_map = next(iter(maps))
    first_year = min(series.first_year for series in members)
    if meta is None:
        return [f"from({_first_code(first_year, period_map)})"]
    index = meta["dimension"][time_dimension]["category"]["index"]
    ordered = sorted(index, key=lambda code: index[code]) if isinstance(index, dict) else list(index)
    chosen = []
    for code in ordered:
        period = period_of(code, period_map)
        if period is not None and int(period) >= first_year:
            chosen.append(code)
    if not chosen:
        raise ValueError(f"tabell {table}: metadata har ingen tidskoder fra {first_year} som passer '{period_map}'")
    return chosen


def selection_body(selection: Selection) -> dict[str, Any]:
    """The JSON body of `POST /tables/{id}/data?lang=no&outputFormat=json-stat2` for a selection."""
    items: list[dict[str, Any]] = []
    for dimension, codes in selection.values.items():
        item: dict[str, Any] = {"variableCode": dimension}
        codelist = selection.codelists.get(dimension)
        if codelist is not None:
            item["codelist"] = codelist
            if codelist.startswith("agg_"):
                item["outputValues"] = AGGREGATED
        item["valueCodes"] = list(codes)
        items.append(item)
    stub = [dimension for dimension in selection.values if dimension != selection.time_dimension]
    return {"selection": items, "placement": {"heading": [selection.time_dimension], "stub": stub}}


def split_selection(selection: Selection) -> tuple[Selection, Selection] | None:
    """Two halves of a selection SSB found too large, split by time; None when time is an expression or one code.

    Only time is split: each half then holds whole periods, so summed cells (a `select` list) stay in one response.
    """
    codes = selection.values[selection.time_dimension]
    if len(codes) < 2 or any(_is_expression(code) for code in codes):
        return None
    middle = len(codes) // 2

    def half(part: tuple[str, ...]) -> Selection:
        values = dict(selection.values)
        values[selection.time_dimension] = part
        return replace(selection, values=MappingProxyType(values))

    return half(codes[:middle]), half(codes[middle:])


def check_series_against_metadata(
    series: SsbSeries,
    metadata: Mapping[str, Any],
    municipality: Municipality,
    *,
    codelists: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[str]:
    """What a series asks for that the table lacks, in bokmål; empty when the query can be made.

    `metadata` is the json-stat2 of `GET /tables/{id}/metadata` (a data response works too). A code read through a
    codelist is accepted when it is in the dimension's categories (metadata fetched with the codelist, or a data
    response), or else when the dimension offers the codelist and, if `codelists` (`GET /codelists/{id}` bodies by
    id) is given, the codelist has the code. Checked: every dimension and value code the series uses; that the time
    dimension has codes for the series' period map from its first year; that every other dimension can be
    eliminated (PxWebApi v2 requires a selection for the others); and that every labelled code still means what
    the catalogue says (its `labels`) and the ContentsCode has the catalogue's `unit` (fetchers.meaning). A value
    chosen by label is first resolved against the metadata (fetchers.ssb_codes); no match or several is the problem.
    """
    if series.by_label():
        checked = check_series(series, metadata_categories(metadata))
        if checked.series is None:
            return [checked.refusal or ""]
        series = checked.series
    problems: list[str] = []
    ids = list(metadata.get("id") or [])
    dimensions = metadata.get("dimension") or {}
    present = set(ids) | set(dimensions)

    def categories(dimension: str) -> set[str]:
        index = ((dimensions.get(dimension) or {}).get("category") or {}).get("index")
        if isinstance(index, dict):
            return set(index)
        return set(index or [])

    def offered(dimension: str) -> dict[str, Mapping[str, Any]]:
        extension = (dimensions.get(dimension) or {}).get("extension") or {}
        return {
            str(item.get("id")): item for item in extension.get("codelists") or [] if isinstance(item, Mapping)
        }

    def check_codes(dimension: str, codes: list[str], codelist: str | None) -> None:
        known = categories(dimension)
        missing = [code for code in codes if code not in known]
        if not missing:
            return
        if codelist is None:
            problems.append(f"dimensjonen {dimension!r} mangler verdikoden(e) {', '.join(missing)}")
            return
        if codelist not in offered(dimension):
            problems.append(
                f"dimensjonen {dimension!r} tilbyr ikke kodelisten {codelist!r} "
                f"(tilbyr: {', '.join(sorted(offered(dimension))) or 'ingen'})"
            )
            return
        body = (codelists or {}).get(codelist)
        if body is None:
            return  # the codelist exists; its codes need GET /codelists/{id}
        in_list = {value.get("code") for value in body.get("values") or []}
        absent = [code for code in missing if code not in in_list]
        if absent:
            problems.append(f"kodelisten {codelist!r} mangler verdikoden(e) {', '.join(absent)}")

    wanted = [series.region.dimension, *series.select, series.time_dimension]
    for dimension in wanted:
        if dimension not in present:
            problems.append(f"tabellen mangler dimensjonen {dimension!r} (har {', '.join(ids)})")
    if series.region.dimension in present:
        check_codes(series.region.dimension, region_codes(series, municipality), series.region.codelist)
    for dimension in series.select:
        if dimension in present:
            check_codes(dimension, series.codes(dimension), series.codelists.get(dimension))
    if series.time_dimension in present:
        codes = categories(series.time_dimension)
        periods = [period_of(code, series.period) for code in codes]
        usable = [int(p) for p in periods if p is not None]
        if not usable:
            problems.append(
                f"tidsdimensjonen {series.time_dimension!r} har ingen koder som passer period '{series.period}' "
                f"(f.eks. {', '.join(sorted(codes)[:3])})"
            )
        elif max(usable) < series.first_year:
            problems.append(f"tidsdimensjonen har ingen perioder fra first_year {series.first_year}")
        time_roles = (metadata.get("role") or {}).get("time") or []
        if time_roles and series.time_dimension not in time_roles:
            problems.append(f"{series.time_dimension!r} er ikke tabellens tidsdimensjon (role.time: {time_roles})")
    for dimension in ids:
        if dimension in wanted:
            continue
        extension = (dimensions.get(dimension) or {}).get("extension") or {}
        if extension.get("elimination") is False:
            problems.append(f"dimensjonen {dimension!r} kan ikke elimineres og må stå i `select`")
    # metadata without the codelist labels a dimension's own codes: a codelist's codes are labelled in the data
    return problems + series_meaning_problems(
        series, metadata_label_of(metadata), metadata_unit_of(metadata), with_codelists=False
    )


def series_meaning_problems(
    series: SsbSeries, label_of: LabelOf, unit_of: LabelOf, *, with_codelists: bool = True
) -> list[str]:
    """Every selected code whose SSB label is not the catalogue's, and a ContentsCode whose unit is not its `unit`.

    `with_codelists=False` leaves out the dimensions read through a codelist (plain metadata labels other codes).
    """
    expected = [item for item in series.expected_labels() if with_codelists or item[0] not in series.codelists]
    contents = ("ContentsCode", series.codes("ContentsCode"))
    return meaning_problems(expected, label_of, unit=series.unit, unit_codes=contents, unit_of=unit_of)
