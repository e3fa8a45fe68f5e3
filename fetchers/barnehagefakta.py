"""barnehagefakta.no (Udir's kindergarten facts): the kommune answer as a pipeline source.

`GET {base}/Kommune/{knr}` (no key) answers with one JSON object for the kommune: `navn`, `indikatorDataKommune`
(the kommune's figures: `andelAnsatteBarnehagelarer`, `antallBarnPerAnsatt`, …) and `indikatorDataNasjonalt` (the
same for Norway). Shape as read by public code (tests/fixtures/PROVENANCE.md): working scripts read exactly these
two blocks; no year field has been seen, so the answer is the latest year only and carries no period. Each answer
is archived raw by the pipeline and the history is built run by run; the period is the counting year by the rule of
`BarnehagefaktaSeries` (`counting_year`), from the run's clock, never from the answer.

One table ("kommune") per run: one request. A missing block or field, a non-number, or another kommune's answer fails
that table alone with one bokmål sentence; `monitor import` can feed the indicator meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fetchers.http import JsonApiClient, load_json
from fetchers.jsonstat import Dataset
from monitor.core.errors import FetchError
from monitor.core.fetchspec import CatalogueView, Municipality
from monitor.core.fetchspec_barnehagefakta import BarnehagefaktaFetch, BarnehagefaktaSeries
from monitor.core.model import Point, Series, TableMeta

BLOCK = "indikatorDataKommune"
TIME, FIELD = "Tid", "felt"
HINT = "til det virker igjen kan {who} mates med `monitor import`"


class BarnehagefaktaClient(JsonApiClient):
    """The client for barnehagefakta.no's API (`MONITOR_BARNEHAGEFAKTA_URL`, e.g. https://www.barnehagefakta.no/api)."""

    label = "barnehagefakta.no"

    def kommune_body(self, code: str) -> bytes:
        """The raw answer for one kommune number (checked to be a JSON object with the kommune block)."""
        what = f"Kommune/{code}"
        body = self.request("GET", f"/Kommune/{code}", what=what).content
        document = load_json(body, what)
        if not isinstance(document, dict):
            raise FetchError(f"{what}: svaret er ikke et JSON-objekt")
        return body


def counting_year(today: date, published: str) -> int:
    """The year whose figures barnehagefakta.no shows on `today`: the year before from `published` (MM-DD) on,
    else the year before that (last spring's publication is still the one shown)."""
    month, day = (int(part) for part in published.split("-"))
    return today.year - 1 if (today.month, today.day) >= (month, day) else today.year - 2


def barnehagefakta_series(catalogue: CatalogueView) -> dict[str, list[tuple[str, str, BarnehagefaktaSeries]]]:
    """Table → (indicator id, series name, series) for every indicator read from barnehagefakta.no."""
    by_table: dict[str, list[tuple[str, str, BarnehagefaktaSeries]]] = {}
    for indicator in catalogue.indicators:
        if isinstance(indicator.fetch, BarnehagefaktaFetch):
            for name, series in indicator.fetch.series.items():
                by_table.setdefault(series.table, []).append((indicator.id, name, series))
    return by_table


def kommune_block(document: Any, what: str, municipality: Municipality) -> dict[str, Any]:
    """The answer's `indikatorDataKommune`, once the answer is about the kommune asked for."""
    if not isinstance(document, dict):
        raise FetchError(f"{what}: svaret er ikke et JSON-objekt")
    block = document.get(BLOCK)
    if not isinstance(block, dict):
        raise FetchError(
            f"{what}: svaret mangler {BLOCK} (har {', '.join(sorted(map(str, document))) or 'ingen felt'}); "
            "barnehagefakta.no kan ha endret API-et"
        )
    kommune = document.get("kommune")
    number = kommune.get("kommunenummer") if isinstance(kommune, dict) else None
    codes = {entry.code for entry in municipality.codes}
    if number is not None and str(number).strip() not in codes:
        raise FetchError(f"{what}: svaret gjelder kommunenummer {number}, ikke {municipality.name} ({municipality.current_code})")
    return block


def figure(block: dict[str, Any], series: BarnehagefaktaSeries, what: str) -> Point:
    """One field of the kommune block as a point: a number, or ":" when barnehagefakta.no gives null."""
    if series.field not in block:
        raise FetchError(
            f"{what}: svaret mangler feltet {series.field} i {BLOCK} (har {', '.join(sorted(block)) or 'ingen felt'}); "
            "barnehagefakta.no kan ha endret API-et"
        )
    value = block[series.field]
    if value is None:
        return Point(None, ":")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FetchError(f"{what}: feltet {series.field} er ikke et tall ({value!r})")
    return Point(float(value))


class BarnehagefaktaSource:
    """The SourceAdapter for barnehagefakta.no: one request per table, the period from the run's clock."""

    source = "barnehagefakta"
    label = "Barnehagefakta (Udir)"

    def __init__(
        self, client: BarnehagefaktaClient, catalogue: CatalogueView, *, clock: Callable[[], datetime]
    ) -> None:
        self.client = client
        self.catalogue = catalogue
        self.clock = clock
        self.by_table = barnehagefakta_series(catalogue)
        self._period: dict[str, str] = {}  # table → the period this run assigned its answer
        self._current: str | None = None  # the period of the answer fetched last (parse follows fetch)

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    def _hint(self, table: str) -> str:
        who = ", ".join(sorted({i for i, _, _ in self.by_table.get(table, [])})) or "indikatorene"
        return HINT.format(who=who)

    def start(self) -> None:
        """Nothing to read first: barnehagefakta.no announces no limits."""

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """barnehagefakta.no cannot tell what changed: the kommune is asked on every run (one request)."""
        return None

    def fetch(self, table: str) -> list[bytes]:
        """The kommune's answer, with every series' field checked before anything is stored."""
        entries = self.by_table.get(table, [])
        what = f"tabell {table}"
        if not entries:
            raise FetchError(f"{what}: ingen indikator henter fra barnehagefakta.no-spørringen")
        municipality = self.catalogue.municipality
        try:
            body = self.client.kommune_body(municipality.current_code)
            block = kommune_block(load_json(body, what), what, municipality)
            for _, _, series in entries:
                figure(block, series, what)
        except FetchError as exc:
            message = str(exc) if str(exc).startswith(what) else f"{what}: {exc}"
            raise type(exc)(f"{message} – {self._hint(table)}", retryable=exc.retryable) from exc
        published = {series.published for _, _, series in entries}
        if len(published) > 1:
            raise FetchError(f"{what}: seriene har ulike `published` ({', '.join(sorted(published))}); én periode per svar")
        self._period[table] = self._current = str(counting_year(self.clock().date(), published.pop()))
        return [body]

    def parse(self, body: bytes) -> Dataset:
        """The kommune block as a dataset over (Tid, felt): one period, the one this run assigned."""
        document = json.loads(body)
        block = document.get(BLOCK) if isinstance(document, dict) else None
        if not isinstance(block, dict):
            raise FetchError(f"svaret mangler {BLOCK}")
        period = self._current
        if period is None:
            raise FetchError("perioden for svaret er ikke satt (fetch før parse)")
        fields = tuple(str(key) for key in block)
        values: list[float | None] = []
        statuses: list[str | None] = []
        for key in fields:
            raw = block[key]
            number = isinstance(raw, (int, float)) and not isinstance(raw, bool)
            values.append(float(raw) if number else None)
            statuses.append(None if number else ":")
        return Dataset(
            ids=(TIME, FIELD), sizes=(1, len(fields)), codes=((period,), fields),
            labels={TIME: {period: period}, FIELD: {key: key for key in fields}},
            values=values, statuses=statuses, label=str(document.get("navn") or "") or None,
            extension={"barnehagefakta": {"period": period}},
        )

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """The series' field for the run's period (a year before `first_year` gives nothing)."""
        period = dataset.codes[0][0]
        if int(period) < series.first_year:
            return {}
        found = {key: Point(value, status) for (_, key), value, status in dataset.cells()}
        if series.field not in found:
            raise FetchError(f"tabell {series.table}: svaret mangler feltet {series.field} i {BLOCK}")
        return {period: found[series.field]}

    def table_meta(self, table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
        """The period this run assigned; barnehagefakta.no gives no publication stamp."""
        period = self._period.get(table)
        return TableMeta(self.source, table, label=dataset.label, first_period=period, last_period=period)


def check_barnehagefakta_online(catalogue: CatalogueView, client: BarnehagefaktaClient) -> tuple[int, list[str]]:
    """`validate --online`: the kommune answer has the block, every series' field, as a number in its unit's range."""
    by_table = barnehagefakta_series(catalogue)
    problems: list[str] = []
    for table, entries in sorted(by_table.items()):
        what = f"tabell {table}"
        try:
            body = client.kommune_body(catalogue.municipality.current_code)
            block = kommune_block(load_json(body, what), what, catalogue.municipality)
        except FetchError as exc:
            problems.append(str(exc))
            continue
        for indicator, name, series in entries:
            try:
                point = figure(block, series, what)
            except FetchError as exc:
                problems.append(f"{indicator} (serie {name}): {str(exc).removeprefix(what + ': ')}")
                continue
            if point.value is None:
                problems.append(f"{indicator} (serie {name}): feltet {series.field} er tomt (null) for {catalogue.municipality.name}")
            elif series.unit == "prosent" and not 0 <= point.value <= 100:
                problems.append(f"{indicator} (serie {name}): {series.field} = {point.value:g} er ikke en prosent (0–100)")
    return len(by_table), problems
