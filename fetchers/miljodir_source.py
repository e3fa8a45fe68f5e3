"""Miljødirektoratet as a pipeline source: the emissions workbook downloaded, checked and read as one table.

Miljødirektoratet has no API: it publishes one XLSX workbook a year, at an address that has moved once (the old
globalassets address now answers with an HTML error page and 200 OK). So every run downloads the whole file (the
address is MONITOR_MILJODIR_URL), refuses anything that is not an XLSX workbook (its Content-Type AND the zip magic
bytes) with one sentence that names the setting, archives the file, and reads the whole back series again: earlier
years are revised every year, and the store keeps each revision as a new vintage. A file identical to the last good
one (same sha256) is «uendret» without being read (`same_answer_unchanged`). A changed layout or a broken file fails
the table with the first problems; nothing from it is stored, and the last good file and its values stay.
"""

from __future__ import annotations

from typing import Any

import httpx

from fetchers.http import JsonApiClient
from fetchers.jsonstat import Dataset
from fetchers.miljodir import MAX_FILE_BYTES, ZIP_MAGIC, Totals, WorkbookError, describe, read_workbook, shown
from monitor.core.errors import FetchError
from monitor.core.fetchspec import CatalogueView, Municipality
from monitor.core.fetchspec_miljodir import MiljodirFetch, MiljodirSeries
from monitor.core.model import Point, Series, TableMeta

SETTING = "MONITOR_MILJODIR_URL"
WHAT = "Miljødirektoratets utslippsstatistikk"
YEAR_DIMENSION = "År"
# What a workbook may be served as; anything else (text/html above all) is not the workbook.
WORKBOOK_TYPES = ("spreadsheetml", "ms-excel", "octet-stream", "zip", "binary")
ACCEPT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/octet-stream;q=0.9"


def moved(detail: str) -> str:
    """The one sentence for an answer that is not the workbook."""
    return (f"{WHAT}: svaret er ikke Excel-arbeidsboken ({detail}), så adressen kan ha flyttet; finn den nye lenken til "
            f"utslippsstatistikk_alle_kommuner.xlsx på miljodirektoratet.no og sett {SETTING}")


class MiljodirClient(JsonApiClient):
    """Downloads the one workbook at the configured address (throttle, retries and deadlines as every client)."""

    label = "Miljødirektoratet"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.url = url
        self.http.headers["Accept"] = ACCEPT

    def workbook(self) -> bytes:
        """The workbook's bytes; FetchError when the answer is not an XLSX workbook or is too large."""
        body = self.request("GET", self.url, what=WHAT).content
        if len(body) > MAX_FILE_BYTES:
            raise FetchError(f"{WHAT}: filen er på {len(body)} byte; grensen er {MAX_FILE_BYTES} byte")
        return body

    def _classify_status(self, response: httpx.Response, what: str) -> FetchError | None:
        status = response.status_code
        if 200 <= status < 300:
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind and not any(word in kind for word in WORKBOOK_TYPES):
                return FetchError(moved(f"HTTP {status} med Content-Type {kind}"))
            if not response.content.startswith(ZIP_MAGIC):
                start = response.content[:15].decode("ascii", "replace").strip() or "tomt"
                return FetchError(moved(f"HTTP {status}, Content-Type {kind or 'mangler'}, filen begynner med {start!r}"))
            return None
        if status in (404, 410):
            return FetchError(moved(f"HTTP {status}"))
        return super()._classify_status(response, what)


def miljodir_series(catalogue: CatalogueView) -> dict[str, list[tuple[str, str, MiljodirSeries]]]:
    """Table → (indicator id, series name, series) for every indicator read from the workbook."""
    by_table: dict[str, list[tuple[str, str, MiljodirSeries]]] = {}
    for indicator in catalogue.indicators:
        if isinstance(indicator.fetch, MiljodirFetch):
            for name, series in indicator.fetch.series.items():
                by_table.setdefault(series.table, []).append((indicator.id, name, series))
    return by_table


def totals_dataset(totals: Totals) -> Dataset:
    """The kommune's totals as a one-dimensional dataset over years (the exact sums, as floats)."""
    years = tuple(str(year) for year in totals.years)
    return Dataset(
        ids=(YEAR_DIMENSION,), sizes=(len(years),), codes=(years,), labels={YEAR_DIMENSION: {y: y for y in years}},
        values=[float(totals.totals[int(year)]) for year in years], statuses=[None] * len(years),
        label=f"{WHAT}, arket «{totals.sheet}»", extension={"miljodir": {"rows": totals.rows}},
    )


class MiljodirSource:
    """The SourceAdapter for Miljødirektoratet's workbook: one table per workbook (normally one)."""

    source = "miljodir"
    label = "Miljødirektoratet"
    same_answer_unchanged = True  # the pipeline records a file identical to the last good one as «uendret», unread

    def __init__(self, client: MiljodirClient, catalogue: CatalogueView) -> None:
        self.client = client
        self.catalogue = catalogue
        self.by_table = miljodir_series(catalogue)

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    def start(self) -> None:
        """Nothing to read first."""

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """Miljødirektoratet cannot tell what changed: the file is downloaded on every run."""
        return None

    def _series(self, table: str | None = None) -> MiljodirSeries:
        entries = self.by_table.get(table, []) if table else [e for es in self.by_table.values() for e in es]
        if not entries:
            raise FetchError(f"tabell {table}: ingen indikator leses fra Miljødirektoratets arbeidsbok")
        return entries[0][2]

    def fetch(self, table: str) -> list[bytes]:
        """The workbook, once it is an XLSX file."""
        self._series(table)
        return [self.client.workbook()]

    def parse(self, body: bytes) -> Dataset:
        """The kommune's totals per year; a FetchError naming what changed when the layout is not the known one."""
        return totals_dataset(read(body, self._series(), self.catalogue.municipality))

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """The years from the series' first year on; a negative total fails the table (emissions are never below 0)."""
        result: Series = {}
        for (year,), value, _ in dataset.cells():
            if int(year) < series.first_year or value is None:
                continue
            if value < 0:
                raise FetchError(f"{WHAT}: summen for {municipality.name} {year} er negativ ({value:.2f}); "
                                 "ingenting er lagret fra filen")
            result[year] = Point(value)
        if not result:
            raise FetchError(f"{WHAT}: arbeidsboken har ingen år for {municipality.name} fra {series.first_year}")
        return result

    def table_meta(self, table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
        """The years the workbook holds for the kommune; the file carries no publication stamp we read."""
        years = dataset.codes[0]
        return TableMeta(self.source, table, label=dataset.label, first_period=years[0] if years else None,
                         last_period=years[-1] if years else None)


def read(body: bytes, series: MiljodirSeries, municipality: Municipality) -> Totals:
    """The workbook's totals, or one FetchError saying the layout changed or the file is broken."""
    try:
        return read_workbook(body, municipality, sheet=series.sheet, column=series.column)
    except WorkbookError as exc:
        raise FetchError(
            f"{WHAT} har et annet oppsett enn ventet eller er ødelagt: {describe(exc.problems, series.sheet)}; "
            f"ingenting er lagret fra filen, og de forrige verdiene står (ventet arket «{series.sheet}» med kolonnene "
            f"År, Kommunenummer og «{shown(series.column)}»)"
        ) from exc


def check_workbook(catalogue: CatalogueView, client: MiljodirClient) -> tuple[int, list[str], list[str]]:
    """`validate --online`: (workbooks checked, problems, notes). The workbook is downloaded and its layout checked;
    the notes say which years and how many rows of the kommune it holds. A problem: an answer that is not the
    workbook, a changed layout, or no value for the first year (2009, the climate target's base)."""
    by_table = miljodir_series(catalogue)
    if not by_table:
        return 0, [], []
    try:
        body = client.workbook()
    except FetchError as exc:
        return 0, [str(exc)], []
    lines: list[str] = []
    notes: list[str] = []
    municipality = catalogue.municipality
    for table, entries in sorted(by_table.items()):
        for indicator_id, _, series in entries:
            try:
                totals = read(body, series, municipality)
            except FetchError as exc:
                lines.append(f"Miljødirektoratet {table}: {indicator_id}: {exc}")
                continue
            years = totals.years
            notes.append(
                f"Miljødirektoratet {table}: {indicator_id}: arket «{totals.sheet}» har {totals.rows} rader for "
                f"{municipality.name}, årene {years[0]}–{years[-1]} ({len(years)} år)"
            )
            if series.first_year not in years:
                lines.append(f"Miljødirektoratet {table}: {indicator_id}: arbeidsboken har ikke {series.first_year}, "
                             "basisåret for klimamålet")
    return len(by_table), lines, notes
