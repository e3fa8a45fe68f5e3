"""Udir's statistikkbank export API v2 (Elevundersøkelsen): the client, the filter syntax and the row format.

Base `https://api.statistikkbanken.udir.no/api/rest/v2`. Udir's own Swagger says the API «ikke er ment
for ekstern bruk i dag, og vil endres uten varsel», so every answer is checked for shape and anything
unexpected is a FetchError that says what changed (docs/fhi-udir.md §3.1):

- `GET /Eksport` lists the open tables `[{EksportID, Beskrivelse, …}]`.
- `GET /Eksport/{id}/filterVerdier` gives every filter value `{Filter: [{id, kode, navn, nivaa?, …}]}`;
  queries name the internal `id`, never the `kode` (-10 is "alle").
- `GET /Eksport/{id}/filterStatus?filterId=EnhetID&filtre=TidID(…)` gives `{EnhetID: [id, …]}`, the units valid
  for the filter (third-party use, source-evidence.md §5; the shape of each id is UNVERIFIED).
- `GET /Eksport/{id}/sideData?filter=…` gives `[{JSONSider: n}]`, the number of pages.
- `GET /Eksport/{id}/data?filter=…&sideNummer=n&format=0` gives one page: a JSON array of flat rows
  whose numbers are Norwegian strings ("7,8", "5 943"); "*" is suppressed (prikket).

Filters read `TidID(202112_202212)_EnhetID(-1132)`: values inside the parentheses are separated by
underscores (commas give 400 "Feil format på filtrene!", whatever the Swagger says).
"""

from __future__ import annotations

import json
import re
from typing import Any


from fetchers.http import JsonApiClient, load_json
from fetchers.jsonstat import Dataset
from monitor.core.errors import FetchError

DEFAULT_URL = "https://api.statistikkbanken.udir.no/api/rest/v2"
ALL = -10  # filterVerdier's id for "alle"
SUPPRESSED = ":"  # Udir's "*" (prikket: too few answers), stored as the standard symbol for a hidden number
MISSING = ".."  # an empty cell: no figures
DIMENSIONS = ("Enhet", "Skoleaar", "Trinn", "Spoersmaal", "Kjoenn", "Eierform", "Maal")
ABSENT = "-"  # the code of a row column a table does not have (e.g. no Spoersmaal in the participation tables)
# The column that holds a unit's number, by EnhetNivaa: 1 land ("I"), 2 fylke, 3 kommune, 4 skole (org.nr.).
UNIT_COLUMNS = {1: "Nasjonaltkode", 2: "Fylkekode", 3: "Kommunekode", 4: "Organisasjonsnummer"}
REQUIRED_COLUMNS = ("Skoleaarnavn", "EnhetNivaa")
_MEASURE = re.compile(r"^(Andel|Antall)[A-Za-z0-9]*$|^(Score|Standardavvik)$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


class UdirClient(JsonApiClient):
    """The export API's endpoints. Every answer is checked for the shape the docs describe."""

    label = "Udir"

    def tables(self) -> list[dict[str, Any]]:
        """GET /Eksport: the open tables, each with at least `EksportID`."""
        body = self._get_any("/Eksport", what="Udirs tabelliste (/Eksport)")
        if not isinstance(body, list) or not all(isinstance(t, dict) and "EksportID" in t for t in body):
            raise FetchError(f"Udirs tabelliste (/Eksport): uventet form, ventet en liste med EksportID ({_head(body)})")
        return body

    def filter_values(self, table: str) -> dict[str, list[dict[str, Any]]]:
        """GET /Eksport/{id}/filterVerdier: every filter and its values, each `{id, kode, navn, …}`."""
        what = f"tabell {table} (filterVerdier)"
        body = self._get_any(f"/Eksport/{table}/filterVerdier", what=what)
        if not isinstance(body, dict) or not body:
            raise FetchError(f"{what}: uventet form, ventet et objekt med ett felt per filter ({_head(body)})")
        for name, entries in body.items():
            if not isinstance(entries, list) or not all(isinstance(e, dict) and "id" in e and "kode" in e for e in entries):
                raise FetchError(f"{what}: filteret {name} er ikke en liste med id og kode ({_head(entries)})")
        return body

    def valid_units(self, table: str, filters: str) -> set[int]:
        """GET /Eksport/{id}/filterStatus?filterId=EnhetID&filtre=…: the EnhetIDs that have figures for the filter
        (e.g. one school year), as `{"EnhetID": [id, …]}`."""
        what = f"tabell {table} (filterStatus)"
        body = self._get_any(f"/Eksport/{table}/filterStatus", what=what, params={"filterId": "EnhetID", "filtre": filters})
        units = body.get("EnhetID") if isinstance(body, dict) else None
        if not isinstance(units, list) or not all(str(unit).strip().lstrip("-").isdigit() for unit in units):
            raise FetchError(f"{what}: uventet form, ventet {{\"EnhetID\": [id, …]}} ({_head(body)})")
        return {int(str(unit).strip()) for unit in units}

    def page_count(self, table: str, filters: str) -> int:
        """GET /Eksport/{id}/sideData: the number of JSON pages the filter gives."""
        what = f"tabell {table} (sideData)"
        body = self._get_any(f"/Eksport/{table}/sideData", what=what, params={"filter": filters})
        pages = body[0].get("JSONSider") if isinstance(body, list) and body and isinstance(body[0], dict) else None
        if isinstance(pages, str) and pages.strip().isdigit():
            pages = int(pages)
        if type(pages) is not int or pages < 0:
            raise FetchError(f"{what}: uventet form, ventet [{{\"JSONSider\": n}}] ({_head(body)})")
        return pages

    def data_page(self, table: str, filters: str, page: int) -> bytes:
        """GET /Eksport/{id}/data: one page of rows (JSON, format=0), as the raw bytes."""
        response = self.request(
            "GET", f"/Eksport/{table}/data", params={"filter": filters, "sideNummer": page, "format": 0},
            what=f"tabell {table} (data, side {page})",
        )
        return response.content

    def _get_any(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> Any:
        response = self.request("GET", path, params=params, what=what)
        return load_json(response.content, what)

    def _error_detail(self, body: dict[str, Any]) -> str:
        return _udir_detail(body)


def _udir_detail(body: dict[str, Any]) -> str:
    """Udir's own words from an error body `{"kode":400,"feiltype":"…","melding":"…","tilleggsinfo":"…"}`."""
    parts = [str(body[key]).strip() for key in ("feiltype", "melding") if body.get(key)]
    return " – ".join(dict.fromkeys(part for part in parts if part))


def _head(body: Any) -> str:
    text = json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
    return text[:120]


def filter_text(filters: dict[str, list[int]]) -> str:
    """The export API's filter syntax: `Name(v1_v2)_Name2(v)`, in the given order."""
    return "_".join(f"{name}({'_'.join(str(value) for value in values)})" for name, values in filters.items())


def parse_number(text: Any) -> tuple[float | None, str | None]:
    """A Udir cell: "7,8" → 7.8, "5 943" → 5943, "*" → suppressed, "" → missing; another word stays its status."""
    if text is None:
        return None, MISSING
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text), None
    cleaned = _SPACES.sub("", str(text))
    if not cleaned:
        return None, MISSING
    if cleaned == "*":
        return None, SUPPRESSED
    try:
        return float(cleaned.replace(",", ".")), None
    except ValueError:
        return None, str(text).strip()


def school_year(name: str) -> int | None:
    """The autumn of a school year: "2022-23" → 2022 (the survey is held in the autumn); None if malformed."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", name.strip())
    if match is None or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        return None
    return int(match.group(1))


def load_rows(body: bytes, what: str = "Udir-svaret") -> list[dict[str, Any]]:
    """One data page: a JSON array of flat row objects that carry at least the year and the unit level."""
    rows = load_json(body, what)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise FetchError(f"{what}: uventet form, ventet en liste med rader ({_head(rows)})")
    for number, row in enumerate(rows, start=1):
        missing = [column for column in REQUIRED_COLUMNS if column not in row]
        if missing:
            raise FetchError(
                f"{what}: rad {number} mangler kolonnen {', '.join(missing)} (har {', '.join(list(row)[:12])}); "
                "API-et kan ha endret seg"
            )
    return rows


def unit_code(row: dict[str, Any]) -> str:
    """"<EnhetNivaa>:<number>", e.g. "3:3203" for a kommune, "1:I" for the whole country."""
    level = _integer(row.get("EnhetNivaa"))
    column = UNIT_COLUMNS.get(level) if level is not None else None
    number = row.get(column) if column else None
    if number in (None, ""):
        number = row.get("Organisasjonsnummer")
    return f"{row.get('EnhetNivaa')}:{str(number).strip()}"


def _integer(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _text(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    return ABSENT if value is None or str(value).strip() == "" else str(value).strip()


def measure_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The value columns present (Score, Standardavvik, Andel…, Antall…), in the order the rows give them."""
    seen: dict[str, None] = {}
    for row in rows:
        for column in row:
            if _MEASURE.match(column):
                seen.setdefault(column)
    return list(seen)


def rows_dataset(body: bytes, what: str = "Udir-svaret") -> Dataset:
    """One data page as a dense dataset over DIMENSIONS, so the generic pipeline can hold it.

    A cell no row fills has neither value nor status; a "*" cell is None with the status ":" (never 0).
    Two rows for the same cell with different numbers are an error: the filter was not applied.
    """
    rows = load_rows(body, what)
    measures = measure_columns(rows)
    keyed: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    labels: dict[str, dict[str, str]] = {dimension: {} for dimension in DIMENSIONS}
    for row in rows:
        key = (
            unit_code(row), _text(row, "Skoleaarnavn"), _text(row, "TrinnKode"), _text(row, "Spoersmaalkode"),
            _text(row, "KjoennKode"), _text(row, "Eierformkode"),
        )
        names = (
            row.get("EnhetNavn"), row.get("Skoleaarnavn"), row.get("Trinnnavn"),
            row.get("Spoersmaalnavn") if _text(row, "Spoersmaalnavn") not in (ABSENT, "Alle spørsmål")
            else row.get("Spoersmaalgruppe"),
            row.get("Kjoenn"), row.get("EierformNavn"),
        )
        for dimension, code, name in zip(DIMENSIONS, key, names):
            labels[dimension].setdefault(code, str(name).strip() if name not in (None, "") else code)
        keyed.append((key, row))
    labels["Maal"] = {measure: measure for measure in measures}
    codes = [list(labels[dimension]) for dimension in DIMENSIONS[:-1]]
    codes[1].sort()  # school years in order
    codes.append(measures)
    sizes = [len(dimension_codes) for dimension_codes in codes]
    positions = [{code: index for index, code in enumerate(dimension_codes)} for dimension_codes in codes]
    total = 1
    for size in sizes:
        total *= size
    values: list[float | None] = [None] * total
    statuses: list[str | None] = [None] * total
    filled: set[int] = set()
    for cell_key, row in keyed:
        flat = 0
        for dimension_at, code in enumerate(cell_key):
            flat = flat * sizes[dimension_at] + positions[dimension_at][code]
        for measure_at, measure in enumerate(measures):
            if measure not in row:
                continue
            cell = flat * len(measures) + measure_at
            value, status = parse_number(row[measure])
            if cell in filled and (values[cell], statuses[cell]) != (value, status):
                raise FetchError(
                    f"{what}: to rader for samme celle ({', '.join(cell_key)}, {measure}) med ulike tall; "
                    "filteret ble kanskje ikke brukt"
                )
            values[cell], statuses[cell] = value, status
            filled.add(cell)
    return Dataset(
        ids=DIMENSIONS,
        sizes=tuple(sizes),
        codes=tuple(tuple(dimension_codes) for dimension_codes in codes),
        labels=labels,
        values=values,
        statuses=statuses,
        roles={"time": ["Skoleaar"], "geo": ["Enhet"], "metric": ["Maal"]},
        label=None,
        source="Utdanningsdirektoratet",
        extension={"udir": {"rows": len(rows)}},
        version="2.0",
    )
