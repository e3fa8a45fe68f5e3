"""Udir as a pipeline source: per table, filterVerdier → one filtered query → every page of rows.

Each run looks the filter ids up again (Udir may renumber them), asks `sideData` for the page count
and fetches every page; the pages are archived raw. Udir cannot say what changed, so every Udir table
is fetched on every run (a handful of small requests). Any failure ends as a failed table whose
message says that the API is unstable and that the indicators can be fed by `monitor import`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fetchers.jsonstat import Dataset, JsonStatError
from fetchers.meaning import LabelOf, meaning_problems, normalised, require_meaning
from fetchers.udir import ALL, DIMENSIONS, MISSING, SUPPRESSED, UdirClient, filter_text, rows_dataset, school_year
from monitor.core.fetchspec import CatalogueView, Municipality, UdirFetch, UdirSeries
from monitor.core.errors import FetchError
from monitor.core.model import Point, Series, TableMeta

MAX_PAGES = 20  # far more than a kommune's rows need: more pages means the filter was ignored
PINNED_TO_ALL = ("KjoennID", "EierformID")  # left out, the API returns every combination (double counting)
UNSTABLE = (
    "Udirs eksport-API er ustabilt (Udir: «ikke ment for ekstern bruk i dag, og vil endres uten varsel»); "
    "til det virker igjen kan {who} mates med `monitor import`"
)


def unstable_hint(indicator_ids: list[str]) -> str:
    """The sentence every Udir failure ends with."""
    who = ", ".join(indicator_ids) if indicator_ids else "indikatorene"
    return UNSTABLE.format(who=who)


def udir_series(catalogue: CatalogueView) -> dict[str, list[tuple[str, str, UdirSeries]]]:
    """Table → (indicator id, series name, series) for every Udir-fetched indicator."""
    by_table: dict[str, list[tuple[str, str, UdirSeries]]] = {}
    for indicator in catalogue.indicators:
        if isinstance(indicator.fetch, UdirFetch):
            for name, series in indicator.fetch.series.items():
                by_table.setdefault(series.table, []).append((indicator.id, name, series))
    return by_table


def build_filters(
    table: str, values: dict[str, list[dict[str, Any]]], series: list[UdirSeries], municipality: Municipality
) -> dict[str, list[int]]:
    """The query for one table: filter name → ids, looked up by code in filterVerdier (fails on any unknown code)."""
    for name in ("TidID", "EnhetID"):
        if name not in values:
            raise FetchError(f"tabell {table}: filterVerdier mangler filteret {name} (har {', '.join(values)})")
    first_year = min(one.first_year for one in series)
    years = [(_year_of(entry), _id(table, "TidID", entry)) for entry in values["TidID"]]
    tid = sorted(ident for year, ident in years if year is not None and year >= first_year)
    if not tid:
        raise FetchError(f"tabell {table}: ingen skoleår fra {first_year} i filterVerdier (TidID)")
    codes = [entry.code for entry in municipality.codes]
    units = [
        _id(table, "EnhetID", entry) for entry in values["EnhetID"]
        if str(entry.get("kode")).strip() in codes and _level(entry) == 3
    ]
    if not units:
        raise FetchError(
            f"tabell {table}: finner ikke {municipality.name} ({'/'.join(reversed(codes))}) blant EnhetID på kommunenivå"
        )
    filters: dict[str, list[int]] = {"TidID": tid, "EnhetID": sorted(units)}
    resolved = [resolve_codes(table, values, one) for one in series]
    for name in ("TrinnID", "SpoersmaalID"):
        wanted = list(dict.fromkeys(codes[name] for codes in resolved if name in codes))
        if not wanted:
            continue
        if name not in values:
            raise FetchError(f"tabell {table}: filterVerdier mangler filteret {name}")
        by_code = {str(entry.get("kode")).strip(): _id(table, name, entry) for entry in values[name]}
        unknown = [code for code in wanted if code not in by_code]
        if unknown:
            known = ", ".join(list(by_code)[:12])
            raise FetchError(f"tabell {table}: {name}-koden {', '.join(unknown)} finnes ikke lenger (har {known})")
        filters[name] = [by_code[code] for code in wanted]
    for name in PINNED_TO_ALL:
        if name in values:
            if ALL not in {_id(table, name, entry) for entry in values[name]}:
                raise FetchError(f"tabell {table}: {name} har ikke lenger verdien {ALL} (alle)")
            filters[name] = [ALL]
    return filters


def resolve_codes(table: str, values: dict[str, list[dict[str, Any]]], series: UdirSeries) -> dict[str, str]:
    """Filter → the `kode` the series selects: as the catalogue gives it, or looked up by its name (`UdirByLabel`).

    A name that matches no entry, or more than one, is a FetchError naming the filter, the name and what is there.
    """
    codes = series.by_code()
    for name, wanted in series.by_label().items():
        if name not in values:
            raise FetchError(f"tabell {table}: filterVerdier mangler filteret {name}")
        candidates = [entry for entry in values[name] if str(entry.get("kode", "")).strip().startswith(wanted.code_prefix)]
        found = [entry for entry in candidates if normalised(str(entry.get("navn", ""))) == normalised(wanted.label)]
        kind = f" med kode som begynner med {wanted.code_prefix}" if wanted.code_prefix else ""
        if not found:
            known = ", ".join(f"«{str(entry.get('navn', '')).strip()}»" for entry in candidates[:12]) or "ingen"
            raise FetchError(
                f"tabell {table}: finner ingen {name}{kind} som heter «{wanted.label}» i filterVerdier (har {known}); "
                "Udir kan ha gitt indeksen nytt navn"
            )
        if len(found) > 1:
            several = ", ".join(str(entry.get("kode")).strip() for entry in found)
            raise FetchError(
                f"tabell {table}: {len(found)} {name}-verdier{kind} heter «{wanted.label}» ({several}); "
                "katalogen må velge én med kode"
            )
        codes[name] = str(found[0]["kode"]).strip()
    return codes


def resolution_text(series: list[UdirSeries], values: dict[str, list[dict[str, Any]]]) -> str | None:
    """What the names resolved to, for the run log and `validate --online`: «Trivsel» = EUIndeks_1379 (id -40)."""
    seen: dict[str, None] = {}
    for one in series:
        codes = resolve_codes(one.table, values, one)
        for name, wanted in one.by_label().items():
            ids = [entry.get("id") for entry in values.get(name) or [] if str(entry.get("kode", "")).strip() == codes[name]]
            seen.setdefault(f"{name} «{wanted.label}» = {codes[name]} (id {ids[0]})")
    return "; ".join(seen) or None


def _id(table: str, name: str, entry: dict[str, Any]) -> int:
    try:
        return int(str(entry["id"]).strip())
    except ValueError:
        raise FetchError(f"tabell {table}: {name} har en id som ikke er et heltall: {entry['id']!r}") from None


def _level(entry: dict[str, Any]) -> int | None:
    try:
        return int(entry.get("nivaa"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _year_of(entry: dict[str, Any]) -> int | None:
    kode = str(entry.get("kode", "")).strip()
    if kode.isdigit() and len(kode) == 6:
        return int(kode[:4])  # 202212: the autumn of school year 2022-23
    return school_year(str(entry.get("navn", "")))


class UdirSource:
    """The SourceAdapter for Udir's export API v2."""

    source = "udir"
    label = "Udir"

    def __init__(self, client: UdirClient, catalogue: CatalogueView) -> None:
        self.client = client
        self.catalogue = catalogue
        self.by_table = udir_series(catalogue)
        self._periods: dict[str, tuple[str, str]] = {}
        self._values: dict[str, dict[str, list[dict[str, Any]]]] = {}  # export id → filterVerdier, once per run
        self._resolved: dict[str, str | None] = {}  # table → what its names resolved to

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    def indicators_of(self, table: str | None) -> list[str]:
        """The indicators a table feeds (all Udir-fetched indicators for None)."""
        chosen = self.by_table.values() if table is None else [self.by_table.get(table, [])]
        return sorted({indicator for entries in chosen for indicator, _, _ in entries})

    @contextmanager
    def loud(self, table: str | None) -> Iterator[None]:
        """Every failure as a FetchError naming the table and ending with the unstable-API hint."""
        try:
            yield
        except (FetchError, JsonStatError) as exc:
            message = str(exc)
            if table is not None and not message.startswith("tabell "):
                message = f"tabell {table}: {message}"
            if "monitor import" not in message:
                message = f"{message} – {unstable_hint(self.indicators_of(table))}"
            retryable = exc.retryable if isinstance(exc, FetchError) else False
            kind = type(exc) if isinstance(exc, FetchError) else FetchError
            raise kind(message, retryable=retryable) from exc

    def start(self) -> None:
        """Nothing to read first: Udir announces no limits (the client keeps to 27 calls a minute)."""

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """Udir cannot tell what changed: every table is fetched on every run."""
        return None

    def fetch(self, table: str) -> list[bytes]:
        """filterVerdier, sideData and every page of the table's filtered rows, checked before anything is stored."""
        with self.loud(table):
            series = [one for _, _, one in self.by_table.get(table, [])]
            if not series:
                raise FetchError(f"tabell {table}: ingen indikator henter fra tabellen")
            export = series[0].export
            if export not in self._values:
                self._values[export] = self.client.filter_values(export)
            values = self._values[export]
            filters = build_filters(table, values, series, self.catalogue.municipality)
            self._periods[table] = (str(filters["TidID"][0]), str(filters["TidID"][-1]))
            self._resolved[table] = resolution_text(series, values)
            text = filter_text(filters)
            pages = self.client.page_count(export, text)
            if pages < 1:
                raise FetchError(f"tabell {table}: sideData sier 0 sider – ingen rader for filteret {text}")
            if pages > MAX_PAGES:
                raise FetchError(f"tabell {table}: sideData sier {pages} sider; filteret {text} ble trolig ikke brukt")
            bodies = [self.client.data_page(export, text, page) for page in range(1, pages + 1)]
            self._check(table, bodies, series)
            return bodies

    def _check(self, table: str, bodies: list[bytes], series: list[UdirSeries]) -> None:
        """Each page is rows of its own number, the value columns are there, and the kommune has rows."""
        datasets = []
        for number, body in enumerate(bodies, start=1):
            dataset = rows_dataset(body, f"tabell {table} (side {number})")
            if dataset.extension["udir"]["rows"] == 0:
                raise FetchError(f"tabell {table}: side {number} av {len(bodies)} er tom")
            datasets.append(dataset)
        measures = {code for dataset in datasets for code in dataset.codes[DIMENSIONS.index("Maal")]}
        for one in series:
            if one.measure not in measures:
                raise FetchError(
                    f"tabell {table}: svaret mangler kolonnen {one.measure} (har {', '.join(sorted(measures)) or 'ingen'}); "
                    "API-et kan ha endret seg"
                )
        wanted = {f"3:{entry.code}" for entry in self.catalogue.municipality.codes}
        units = {code for dataset in datasets for code in dataset.codes[DIMENSIONS.index("Enhet")]}
        if not wanted & units:
            raise FetchError(f"tabell {table}: svaret har ingen rader for {self.catalogue.municipality.name} på kommunenivå")

    def parse(self, body: bytes) -> Dataset:
        """One page of rows as a dataset over (Enhet, Skoleaar, Trinn, Spoersmaal, Kjoenn, Eierform, Maal)."""
        with self.loud(None):
            return rows_dataset(body)

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """The series' points by period for the kommune, once its grade and question still mean what the catalogue
        says (the rows' Trinnnavn and Spoersmaalgruppe/-navn; a mismatch fails the table and nothing is stored)."""
        with self.loud(series.table):
            owner = next((f"{i} (serie {n})" for i, n, one in self.by_table.get(series.table, []) if one is series), None)
            require_meaning(series.table, owner, meaning_problems(series.expected_labels(), rows_label_of(dataset)))
            return extract(dataset, series, municipality)

    def table_meta(self, table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
        """The school years asked for (TidID) and what the names resolved to (the label); Udir gives no publication stamp."""
        first, last = self._periods.get(table, (None, None))
        label = listed.label if listed else self._resolved.get(table)
        return TableMeta(self.source, table, label=label, first_period=first, last_period=last)


def extract(dataset: Dataset, series: UdirSeries, municipality: Municipality) -> Series:
    """The kommune's points: one row per school year, at kommune level, for the series' grade and question.

    Where Udir still lists an old kommune number for a year, the number valid that year is preferred, then
    today's. A "*" cell keeps the status ":" (never 0).
    """
    if tuple(dataset.ids) != DIMENSIONS:
        raise FetchError(f"tabell {series.table}: datasettet har dimensjonene {dataset.ids}, ventet {DIMENSIONS}")
    measures = dataset.codes[DIMENSIONS.index("Maal")]
    if series.measure not in measures:
        raise FetchError(
            f"tabell {series.table}: svaret mangler kolonnen {series.measure} (har {', '.join(measures) or 'ingen'}); "
            "API-et kan ha endret seg"
        )
    codes = {f"3:{entry.code}": entry.code for entry in municipality.codes}
    chosen = {**series.by_code(), **rows_codes(dataset, series)}
    if any(name not in chosen for name in series.by_label()):
        return {}  # this page has no rows of the named index
    grade = chosen.get("TrinnID")
    question = chosen.get("SpoersmaalID")
    found: dict[int, dict[str, list[Point]]] = {}
    for (unit, year_name, trinn, spoersmaal, _, _, measure), value, status in dataset.cells():
        if measure != series.measure or unit not in codes or (value is None and status is None):
            continue
        if (grade is not None and trinn != grade) or (question is not None and spoersmaal != question):
            continue
        year = school_year(year_name)
        if year is None:
            raise FetchError(f"tabell {series.table}: ukjent skoleår {year_name!r} (ventet f.eks. \"2022-23\")")
        if year < series.first_year:
            continue
        if value is None and status not in (SUPPRESSED, MISSING):
            raise FetchError(f"tabell {series.table}: ukjent verdi {status!r} i kolonnen {series.measure} for {year_name}")
        found.setdefault(year, {}).setdefault(codes[unit], []).append(Point(value, status))
    result: Series = {}
    for year, by_code in sorted(found.items()):
        preferred = [municipality.code_for(year), municipality.current_code, *sorted(by_code)]
        code = next(code for code in preferred if code in by_code)
        points = by_code[code]
        if len(points) > 1:
            raise FetchError(
                f"tabell {series.table}: {len(points)} rader for {municipality.name} {year} "
                f"(trinn {grade}, {question}); kjønn/eierform ble ikke holdt til «alle»"
            )
        result[str(year)] = points[0]
    return result


ROW_DIMENSION = {"TrinnID": "Trinn", "SpoersmaalID": "Spoersmaal"}  # a filter → its dimension in rows_dataset


def rows_codes(dataset: Dataset, series: UdirSeries) -> dict[str, str]:
    """Filter → code for the filters the series chooses by name, read from the rows' own labels (the query asked for
    the code filterVerdier gave that name; the rows carry it under the same name, at most once). A page without such
    rows leaves the filter out."""
    codes: dict[str, str] = {}
    for name, wanted in series.by_label().items():
        labels = dataset.labels.get(ROW_DIMENSION[name]) or {}
        found = [
            code for code, label in labels.items()
            if code.startswith(wanted.code_prefix) and normalised(label) == normalised(wanted.label)
        ]
        if len(found) > 1:
            raise FetchError(
                f"tabell {series.table}: svaret har {len(found)} {name}-koder som heter «{wanted.label}» ({', '.join(found)})"
            )
        if found:
            codes[name] = found[0]
    return codes


def rows_label_of(dataset: Dataset) -> LabelOf:
    """The label the data rows give a filter's code (Trinnnavn; Spoersmaalnavn, or Spoersmaalgruppe for an index)."""

    def label_of(name: str, code: str) -> str | None:
        return (dataset.labels.get(ROW_DIMENSION.get(name, name)) or {}).get(code)

    return label_of


def filter_label_of(values: dict[str, list[dict[str, Any]]]) -> LabelOf:
    """The `navn` filterVerdier gives a filter's code."""

    def label_of(name: str, code: str) -> str | None:
        for entry in values.get(name) or []:
            if str(entry.get("kode")).strip() == code and entry.get("navn") is not None:
                return str(entry["navn"])
        return None

    return label_of


def check_table(
    client: UdirClient, catalogue: CatalogueView, table: str, open_tables: set[str], notes: list[str] | None = None,
) -> list[str]:
    """`validate --online` for one table: still open, every series' codes in filterVerdier with the catalogue's labels
    (`navn`; Udir states no unit, so none is checked), the names resolved to exactly one code (added to `notes`),
    the kommune's EnhetID valid in the newest school year (filterStatus), its column in the rows.

    Costs four requests: filterVerdier, filterStatus, and sideData and one page for the newest school year.
    """
    entries = udir_series(catalogue).get(table, [])
    export = entries[0][2].export if entries else table.split("/")[0]
    if export not in open_tables:
        return [f"tabellen står ikke lenger i Udirs liste over åpne eksporttabeller (/Eksport: {', '.join(sorted(open_tables))})"]
    values = client.filter_values(export)
    found: dict[tuple[str, str], list[str]] = {}  # (indicator, problem) → its series: one line for all of them
    for indicator, name, one in entries:
        try:
            build_filters(table, values, [one], catalogue.municipality)
        except FetchError as exc:
            found.setdefault((indicator, str(exc).removeprefix(f"tabell {table}: ")), []).append(name)
            continue
        for problem in meaning_problems(one.expected_labels(), filter_label_of(values)):
            found.setdefault((indicator, problem), []).append(name)
    problems = [f"{indicator} (serie {', '.join(names)}): {problem}" for (indicator, problem), names in found.items()]
    if problems:
        return problems
    series = [one for _, _, one in entries]
    resolved = resolution_text(series, values)
    if resolved and notes is not None:
        notes.append(f"Udir {table}: {resolved}")
    filters = build_filters(table, values, series, catalogue.municipality)
    filters["TidID"] = filters["TidID"][-1:]
    valid = client.valid_units(export, filter_text({"TidID": filters["TidID"]}))
    if not set(filters["EnhetID"]) & valid:
        return [
            f"{catalogue.municipality.name} (EnhetID {', '.join(str(unit) for unit in filters['EnhetID'])}) er ikke gyldig "
            f"i det nyeste skoleåret ({filters['TidID'][0]}) ifølge filterStatus"
        ]
    text = filter_text(filters)
    if client.page_count(export, text) < 1:
        return [f"ingen rader for {catalogue.municipality.name} i det nyeste skoleåret ({filters['TidID'][0]})"]
    dataset = rows_dataset(client.data_page(export, text, 1), f"tabell {table} (side 1)")
    for indicator, name, one in entries:
        try:
            points = extract(dataset, one, catalogue.municipality)
        except FetchError as exc:
            problems.append(f"{indicator} (serie {name}): {str(exc).removeprefix(f'tabell {table}: ')}")
            continue
        if not points:
            problems.append(f"{indicator} (serie {name}): ingen verdi for {catalogue.municipality.name} i det nyeste skoleåret")
    return problems
