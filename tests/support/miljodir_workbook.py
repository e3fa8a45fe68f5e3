"""Build a constructed workbook in the layout of Miljødirektoratet's utslippsstatistikk_alle_kommuner.xlsx.

`python tests/support/miljodir_workbook.py` writes tests/fixtures/miljodir/utslippsstatistikk_alle_kommuner.xlsx.
The tests also call `build()` with variations (another sheet name, a column missing, a formula, …).

Layout (see tests/fixtures/PROVENANCE.md, "miljodir/"): sheet «Oversikt - detaljert», header in row 1,
columns Fylke, Kommunenummer, Kommune, År, Sektor, Utslippskilde, Klimagass, Utslipp (tonn CO2-ekvivalenter),
one row per kommune × year × sector × source × gas. Every number is invented; Asker's rows sum exactly to
the totals printed in Handlingsprogram 2024–2027 (232 966 / 219 333 / 214 899 / 212 196 for 2019–2022).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HERE = Path(__file__).parent.parent
FIXTURE = HERE / "fixtures" / "miljodir" / "utslippsstatistikk_alle_kommuner.xlsx"
HEADER = ["Fylke", "Kommunenummer", "Kommune", "År", "Sektor", "Utslippskilde", "Klimagass",
          "Utslipp (tonn CO2-ekvivalenter)"]
ASKER_TOTALS = {2019: Decimal("232966"), 2020: Decimal("219333"), 2021: Decimal("214899"), 2022: Decimal("212196")}
OTHERS = {("Akershus", "3201", "Bærum"): Decimal("301250.40"), ("Oslo", "0301", "Oslo"): Decimal("1020330.75")}
# (sector, source, gas, share of the year's total); sector and source names as in the real file, including
# the two trailing spaces the real file has after some «Annen mobil forbrenning» sources.
SPLIT = [
    ("Veitrafikk", "Personbiler", "CO2", Decimal("0.3110")),
    ("Veitrafikk", "Personbiler", "N2O", Decimal("0.0040")),
    ("Veitrafikk", "Varebiler", "CO2", Decimal("0.0720")),
    ("Veitrafikk", "Tunge kjøretøy", "CO2", Decimal("0.1430")),
    ("Veitrafikk", "Busser", "CO2", Decimal("0.0210")),
    ("Sjøfart", "Passasjer", "CO2", Decimal("0.0850")),
    ("Sjøfart", "Fiskefartøy", "CO2", Decimal("0.0030")),
    ("Oppvarming", "Fossil olje", "CO2", Decimal("0.0150")),
    ("Oppvarming", "Vedfyring", "CH4", Decimal("0.0060")),
    ("Annen mobil forbrenning", "Bygg og anlegg  ", "CO2", Decimal("0.1010")),
    ("Annen mobil forbrenning", "Jordbruk  ", "CO2", Decimal("0.0050")),
    ("Jordbruk", "Jordbruksarealer", "N2O", Decimal("0.0080")),
    ("Jordbruk", "Fordøyelsesprosesser husdyr", "CH4", Decimal("0.0070")),
    ("Avfall og avløp", "Avløp", "CH4", Decimal("0.0120")),
    ("Avfall og avløp", "Avfallsdeponigass", "CH4", Decimal("0.0300")),
    ("Energiforsyning", "Fjernvarme unntatt avfallsforbrenning", "CO2", Decimal("0.0400")),
    ("Industri, olje og gass", "Industri, olje og gass", "CO2", Decimal("0.1300")),
    ("Luftfart", "Innenriks luftfart", "CO2", Decimal("0")),
    ("Luftfart", "Utenriks luftfart", "CO2", Decimal("0")),
]

Row = list[Any]


def split(total: Decimal, year: int) -> list[Decimal]:
    """Two-decimal parts of `total`, one per SPLIT row, summing to it exactly (industry takes the rest)."""
    parts = [(total * share * (1 + Decimal(year % 7) / 100)).quantize(Decimal("0.01")) for *_, share in SPLIT[:-3]]
    rest = total - sum(parts)
    assert rest >= 0, f"the split of {total} overshoots"
    return parts + [rest, Decimal("0.00"), Decimal("0.00")]


def detail_rows(asker_number: Any = "3203", asker_totals: dict[int, Decimal] | None = None) -> list[Row]:
    """The data rows of «Oversikt - detaljert»: Asker, Bærum and Oslo, 2019–2022."""
    rows: list[Row] = []
    kommuner = [(("Akershus", asker_number, "Asker"), asker_totals or ASKER_TOTALS)]
    kommuner += [(key, {year: total + year for year in ASKER_TOTALS}) for key, total in OTHERS.items()]
    for (fylke, number, name), totals in sorted(kommuner, key=lambda item: str(item[0][1])):
        for year, total in sorted(totals.items()):
            for (sector, source, gas, _), amount in zip(SPLIT, split(total, year), strict=True):
                rows.append([fylke, number, name, year, sector, source, gas, float(amount)])
    return rows


def build(
    *,
    sheet: str = "Oversikt - detaljert",
    header: list[str] | None = None,
    rows: list[Row] | None = None,
    title_rows: int = 0,
    edit: Callable[[Any], None] | None = None,
) -> bytes:
    """The workbook as bytes; `edit` may change the detail sheet before it is saved."""
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = "Oversikt - sektorfordelt"
    summary.append(["Kommune", "År", "Sektor", "Utslipp (tonn CO2-ekvivalenter)"])
    summary.append(["Asker", 2022, "Veitrafikk", 116000.0])
    detail = workbook.create_sheet(sheet)
    for index in range(title_rows):
        detail.append([f"Klimagassutslipp fordelt på kommuner (tittelrad {index + 1})"])
    detail.append(header or HEADER)
    for row in detail_rows() if rows is None else rows:
        detail.append(row)
    if edit is not None:
        edit(detail)
    workbook.properties.created = workbook.properties.modified = datetime(2024, 5, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_bytes(build())
    print(f"{FIXTURE}: {FIXTURE.stat().st_size} byte")
