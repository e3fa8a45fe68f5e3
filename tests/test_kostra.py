"""The KOSTRA peer comparison: kostra.yaml against the seed, the baseline, the located errors and the export."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from support.paths import REPO, SEED_PATH
from monitor.cli.main import cli
from monitor.core.errors import CatalogueError
from monitor.catalogue.kostra import Category, KostraCatalogue, load_kostra
from monitor.seed.kostra_baseline import kostra_baseline_path, load_kostra_baseline, read_kostra_baseline
from monitor.seed.kostra import (
    build_kostra_baseline_rows, parse_kostra_tables, unescape_footnote, write_kostra_baseline_csv,
)
from monitor.seed.handlingsprogram import parse_cell
from monitor.store.database import Store
from test_exports import TableReader, squash

KOSTRA_PATH = REPO / "kostra.yaml"
KOSTRA_TEXT = KOSTRA_PATH.read_text(encoding="utf-8")
SEED = SEED_PATH.read_text(encoding="utf-8")
AREAS = ["Organisasjon, styring og utvikling", "Oppvekst", "Velferd", "Samfunnstjenester", "Samfunnsutvikling",
         "Medborgerskap"]


@pytest.fixture(scope="module")
def kostra() -> KostraCatalogue:
    return load_kostra(KOSTRA_PATH)


# ---- kostra.yaml against the seed -------------------------------------------------------------------------------


def test_the_seed_has_six_tables_and_85_rows() -> None:
    tables = parse_kostra_tables(SEED)
    assert [t.area for t in tables] == AREAS
    assert [len(t.rows) for t in tables] == [5, 20, 15, 24, 9, 12]
    wrapped = {row.name for t in tables for row in t.rows if "(kommunehelse+omsorg)" in row.name or "(kr *)" in row.name}
    assert wrapped == {
        "Ergoterapeutårsverk per 10 000 innbyggere (kommunehelse+omsorg) (årsverk)",
        "Korrigerte brutto driftsutgifter totalt eiendomsforvaltning, kommune utgifter per kvadratmeter bygg (kr *)",
    }


def test_catalogue_matches_the_seed_row_by_row(kostra: KostraCatalogue) -> None:
    tables = parse_kostra_tables(SEED)
    assert len(kostra.rows) == 85 and len({row.id for row in kostra.rows}) == 85
    assert [area.name for area in kostra.areas] == [t.area for t in tables]
    checked = 0
    for table, area in zip(tables, kostra.areas):
        assert area.footnotes == list(table.footnotes), area.name
        for seed_row, row in zip(table.rows, area.rows, strict=True):
            assert row.name == seed_row.name
            assert row.category.label == seed_row.category, row.id
            assert row.b_mark == ("(B)" in seed_row.name)
            assert row.need_adjusted == ("**)" in seed_row.name)
            for printed in seed_row.cells:
                if printed:
                    cell = parse_cell(printed)
                    assert (cell.decimals, cell.suffix) == (row.decimals, row.symbol), (row.id, printed)
                    checked += 1
    assert checked == 554


def test_flags_footnotes_and_headers(kostra: KostraCatalogue) -> None:
    rows = {row.id: row for row in kostra.rows}
    assert (rows["osu_politisk_styring"].deflated, rows["osu_politisk_styring"].need_adjusted) == (True, True)
    assert (rows["mb_bibliotek"].deflated, rows["mb_bibliotek"].need_adjusted) == (True, True)  # "*) (**)"
    assert (rows["mb_kultursektoren"].deflated, rows["mb_kultursektoren"].need_adjusted) == (True, False)
    assert rows["st_eiendomsforvaltning_per_kvm"].deflated  # "(kr *)" on the wrapped line
    assert not rows["opp_grunnskolepoeng"].adjusted and not rows["opp_grunnskolepoeng"].b_mark
    assert sum(row.b_mark for row in kostra.rows) == 47
    assert sum(row.deflated for row in kostra.rows) == 41 and sum(row.need_adjusted for row in kostra.rows) == 25
    assert [category.label for category in Category] == [
        "Prioritet", "Produktivitet", "Dekningsgrad", "Kvalitet", "Grunnlagsdata (Nivå 3)", "Andre nøkkeltall",
        "Kommunekasse",
    ]
    tables = parse_kostra_tables(SEED)
    headings = [column.heading(kostra.layout_year) for column in kostra.columns]
    assert headings == ["Asker 2021", "Asker 2022", "Bærum", "Drammen", "Lillestrøm", "ASSS uten Oslo", "Kostragruppe 12"]
    assert [list(t.header) for t in tables[1:]] == [headings] * 5
    assert tables[0].header[5] == "ASSS Kostragruppe uten Oslo"  # the one printed variant
    assert [column.heading(2024) for column in kostra.columns][:2] == ["Asker 2023", "Asker 2024"]


def test_footnotes_render_like_markdown() -> None:
    assert unescape_footnote("\\*\\*\\*) Justert for utgiftsbehov") == "***) Justert for utgiftsbehov"
    assert unescape_footnote("*\\*) Inflasjonsjustert med deflator*") == "*) Inflasjonsjustert med deflator"
    assert unescape_footnote("\\*) Inflasjonsjustert med deflator  ") == "*) Inflasjonsjustert med deflator"


def test_every_row_has_an_ssb_series_or_says_why_not(kostra: KostraCatalogue) -> None:
    fetched = kostra.fetched_series
    assert len(fetched) == 43
    assert sorted({series.table for _, series in fetched}) == ["11787", "11816", "12051", "12209", "12241", "12255", "12279", "12362", "12842", "13135", "13502"]
    for row, series in fetched:
        assert series.region.dimension == "KOKkommuneregion0000" and "ContentsCode" in series.select, row.id
    assert all(row.not_fetched for row in kostra.rows if row.ssb is None)
    politics = next(series for row, series in fetched if row.id == "osu_politisk_styring")
    assert dict(politics.select) == {"KOKfunksjon0000": "100", "KOKart0000": "AGD2", "ContentsCode": "KOSbelopinnbygge0000"}
    # every code not seen in a source that queried the real table carries a greppable mark
    lines = KOSTRA_TEXT.splitlines()
    for row, _ in fetched:
        start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {row.id}")
        block = "\n".join(lines[start: start + 14])
        if "UNVERIFIED:" in block.split("ssb:")[0]:
            assert "# UNVERIFIED" in block.split("ssb:")[1].splitlines()[0], row.id


# ---- the peers and their code histories -----------------------------------------------------------------------


def test_peer_code_histories(kostra: KostraCatalogue) -> None:
    def history(region_id: str) -> list[str | None]:
        return [kostra.region(region_id).code_for(year) for year in (2019, 2020, 2023, 2024)]

    assert history("asker") == ["0220", "3025", "3025", "3203"]
    assert history("baerum") == ["0219", "3024", "3024", "3201"]
    assert history("drammen") == [None, "3005", "3005", "3301"]
    assert history("lillestrom") == [None, "3030", "3030", "3205"]
    assert history("kostragruppe_12") == ["EKG12"] * 4
    asss = kostra.region("asss_uten_oslo")
    assert history("asss_uten_oslo") == [None] * 4 and not asss.fetched and asss.store_code == "ASSSUO"
    assert [r.store_code for r in kostra.regions] == ["3203", "3201", "3301", "3205", "ASSSUO", "EKG12"]
    assert [r.id for r in kostra.fetched_regions] == ["asker", "baerum", "drammen", "lillestrom", "kostragruppe_12"]


# ---- validation errors, located ---------------------------------------------------------------------------------


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def problems_for(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "kostra.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_kostra(path)
    return [problem.replace(str(path), "kostra.yaml") for problem in caught.value.problems]


def test_validation_errors_name_file_line_row_and_field(tmp_path: Path) -> None:
    text = (
        KOSTRA_TEXT
        .replace("        category: kvalitet\n        name: \"Gjennomsnittlig grunnskolepoeng (antall)\"",
                 "        category: kvallitet\n        name: \"Gjennomsnittlig grunnskolepoeng (antall)\"")
        .replace("      - id: osu_kontroll_revisjon", "      - id: osu_politisk_styring")
        .replace("        name: \"Besøk i folkebibliotek per innbygger (B)\"\n",
                 "        name: \"Besøk i folkebibliotek per innbygger (B)\"\n        colour: red\n")
    )
    problems = problems_for(tmp_path, text)
    assert problems == [
        f"kostra.yaml:{line_of(text, 'kvallitet')}: KOSTRA-rad 'opp_grunnskolepoeng' (Oppvekst, rad 17) → category: "
        "ugyldig verdi 'kvallitet'; tillatt: 'prioritet', 'produktivitet', 'dekningsgrad', 'kvalitet', 'grunnlagsdata', "
        "'andre_nokkeltall' eller 'kommunekasse'",
        f"kostra.yaml:{line_of(text, 'colour: red')}: KOSTRA-rad 'mb_bibliotekbesok' (Medborgerskap, rad 10) → colour: "
        "ukjent felt",
        f"kostra.yaml:{line_of(text, '- id: osu_politisk_styring', 2)}: KOSTRA-rad 'osu_politisk_styring' "
        "(Organisasjon, styring og utvikling, rad 2) → id: id-en er brukt før, på linje "
        f"{line_of(text, '- id: osu_politisk_styring')}",
    ]


@pytest.mark.parametrize(
    "old,new,needle,expected",
    [
        ("  - {region: lillestrom, label: \"Lillestrøm\"}", "  - {region: lilestrom, label: \"Lillestrøm\"}",
         "lilestrom", "KOSTRA-fil → (hele): kolonner viser til ukjente regioner: lilestrom"),
        ("    local_code: ASSSUO\n", "    local_code: ASSSUO\n    codes: [{code: EAKUO}]\n", "- id: asss_uten_oslo",
         "region 'asss_uten_oslo' (#5) → (hele): en region har enten `codes` (SSB-koder) eller `local_code` "
         "(uten SSB-kode), ikke begge"),
        ("      - {code: \"3030\", first_year: 2020, last_year: 2023}", "      - {code: \"3030\", first_year: 2020, last_year: 2022}",
         "- id: lillestrom", "region 'lillestrom' (#4) → (hele): kodehistorikken må være sammenhengende: 3030 og så 3205"),
        ("        name: \"Besøk i folkebibliotek per innbygger (B)\"\n        b_mark: true\n",
         "        name: \"Besøk i folkebibliotek per innbygger (B)\"\n", "- id: mb_bibliotekbesok",
         "KOSTRA-rad 'mb_bibliotekbesok' (Medborgerskap, rad 10) → (hele): `b_mark` er False, men «(B)» står i navnet"),
        ("ssb: {table: \"13502\", select: {ContentsCode: KOSandel350000},",
         "ssb: {table: \"13502\", select: {Region: \"3203\"},", "Region: \"3203\"",
         "KOSTRA-rad 'opp_barnehage_3_5' (Oppvekst, rad 11) → ssb.select: `select` må ha ContentsCode"),
    ],
)
def test_single_errors_are_located(tmp_path: Path, old: str, new: str, needle: str, expected: str) -> None:
    assert KOSTRA_TEXT.count(old) == 1, old
    text = KOSTRA_TEXT.replace(old, new)
    problems = problems_for(tmp_path, text)
    assert len(problems) == 1, problems
    line, message = problems[0].removeprefix("kostra.yaml:").split(": ", 1)
    assert message.startswith(expected), message
    if not expected.startswith("KOSTRA-fil"):
        assert int(line) == line_of(text, needle), (line, needle)


def test_a_row_with_neither_series_nor_reason_is_refused(tmp_path: Path) -> None:
    text = KOSTRA_TEXT.replace(
        "        not_fetched: \"Udirs nasjonale prøver; SSB-tabell i KOSTRA ikke funnet offline.\"\n", "", 1
    )
    problems = problems_for(tmp_path, text)
    assert problems == [
        f"kostra.yaml:{line_of(text, '- id: opp_nasjonale_prover_lesing_8')}: KOSTRA-rad 'opp_nasjonale_prover_lesing_8' "
        "(Oppvekst, rad 15) → (hele): en rad har enten `ssb` (serien hos SSB) eller `not_fetched` (hvorfor ikke)"
    ]


# ---- the baseline -------------------------------------------------------------------------------------------------


def test_baseline_file_is_built_from_the_seed(kostra: KostraCatalogue, tmp_path: Path) -> None:
    rows = build_kostra_baseline_rows(SEED, kostra)
    out = tmp_path / "kostra_baseline.csv"
    write_kostra_baseline_csv(rows, out)
    assert out.read_bytes() == kostra_baseline_path().read_bytes()  # the shipped file is up to date
    assert len(rows) == 554
    assert {(r["region"], r["period"]) for r in rows} == {
        ("3203", 2021), ("3203", 2022), ("3201", 2022), ("3301", 2022), ("3205", 2022), ("ASSSUO", 2022), ("EKG12", 2022)
    }


def test_baseline_round_trip_through_the_store(kostra: KostraCatalogue, store: Store, now: datetime) -> None:
    assert load_kostra_baseline(store, kostra, now) == 554
    assert load_kostra_baseline(store, kostra, now) == 0  # idempotent
    printed = {
        (r["kostra_id"], r["region"], str(r["period"])): r["printed"] for r in build_kostra_baseline_rows(SEED, kostra)
    }
    stored = {
        (v.indicator_id.removeprefix("kostra."), v.region, v.period): v
        for row in kostra.rows for v in store.vintages(row.series_id)
    }
    assert stored.keys() == printed.keys()
    for key, text in printed.items():
        vintage = stored[key]
        assert vintage.value == parse_cell(text).value and vintage.vintage == "Handlingsprogram 2024–2027", key
        assert vintage.retrieved_at.startswith("2023-12-1")
    barnehage = stored[("opp_barnehager_per_innbygger_1_5", "3203", "2021")]
    assert barnehage.value == 173362 and barnehage.source == "baseline"


def test_baseline_file_errors_name_the_line(kostra: KostraCatalogue, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    lines = kostra_baseline_path().read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace("3203", "3025")]) + "\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"bad\.csv:3: ukjent region '3025'"):
        read_kostra_baseline(kostra, bad)


# ---- the CLI and the export ------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml")}
    result = CliRunner().invoke(cli, ["init"], env=values)
    assert result.exit_code == 0, result.output
    assert "KOSTRA-grunnlinjen «Handlingsprogram 2024–2027»: 554 nye verdier." in result.stdout
    return values


def export(env: dict[str, str], tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"kostra.{fmt}"
    result = CliRunner().invoke(cli, ["export", "kostra", "--format", fmt, "--out", str(out), *extra], env=env)
    assert result.exit_code == 0, result.output
    return out


def test_html_reproduces_every_kostra_cell_as_printed(env: dict[str, str], tmp_path: Path) -> None:
    reader = TableReader()
    text = export(env, tmp_path, "html").read_text(encoding="utf-8")
    reader.feed(text)
    tables = parse_kostra_tables(SEED)
    assert [t["caption"] for t in reader.tables] == [f"KOSTRA-tall – {t.area}" for t in tables]
    compared = printed = 0
    for html_table, seed_table in zip(reader.tables, tables, strict=True):
        rows = html_table["rows"]
        assert isinstance(rows, list)
        assert rows[0][1:] == ["Asker 2021", "Asker 2022", "Bærum", "Drammen", "Lillestrøm", "ASSS uten Oslo",
                               "Kostragruppe 12"]
        expected: list[list[str]] = []
        category = None
        for row in seed_table.rows:
            if row.category != category:
                expected.append([row.category])
                category = row.category
            expected.append([row.name, *row.cells])
        got = rows[1:]
        assert [r[0] for r in got] == [r[0] for r in expected], seed_table.area
        for got_row, want_row in zip(got, expected):
            assert len(got_row) == len(want_row)
            for got_cell, want_cell in zip(got_row[1:], want_row[1:]):
                assert squash(got_cell) == squash(want_cell), (want_row[0], want_cell)
                compared += 1
                printed += bool(want_cell)
        for note in seed_table.footnotes:
            assert f'<p class="footnote">{note}</p>' in text.replace("&#x27;", "'")
    assert (compared, printed) == (595, 554)
    assert "³" not in text and "¹" not in text  # only the printed figures: no marks


def test_as_of_before_adoption_shows_empty_tables(env: dict[str, str], tmp_path: Path) -> None:
    reader = TableReader()
    reader.feed(export(env, tmp_path, "html", "--as-of", "2023-12-01", "--year", "2022").read_text(encoding="utf-8"))
    cells = [c for t in reader.tables for r in t["rows"][1:] for c in r[1:]]  # type: ignore[index]
    assert cells and all(cell == "" for cell in cells)


def test_csv_and_xlsx(env: dict[str, str], tmp_path: Path) -> None:
    raw = export(env, tmp_path, "csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["KOSTRA-tall – Organisasjon, styring og utvikling"] and rows[2] == ["Prioritet"]
    assert ["Andel barn 1-2 år med barnehageplass i forhold til innbyggere 1-2 år (B)", "86,7\u00a0%", "88,3\u00a0%",
            "91,8\u00a0%", "83,1\u00a0%", "83,0\u00a0%", "88,8\u00a0%", "88,8\u00a0%"] in rows
    assert ["***) Justert for utgiftsbehov"] in rows
    workbook = openpyxl.load_workbook(export(env, tmp_path, "xlsx"))
    assert workbook.sheetnames[:2] == ["Organisasjon, styring", "Oppvekst"] and len(workbook.sheetnames) == 6
    sheet = workbook["Oppvekst"]
    assert sheet.freeze_panes == "B3" and sheet["A3"].value == "Prioritet" and sheet["A3"].font.bold
    barnehage = next(r for r in sheet.iter_rows(min_row=3) if str(r[0].value).startswith("Netto driftsutgifter per innbygger 1-5"))
    assert barnehage[1].value == 173362 and barnehage[1].number_format == "#,##0"
    share = next(r for r in sheet.iter_rows(min_row=3) if str(r[0].value).startswith("Andel barn 3-5"))
    assert share[1].value == 96.7 and share[1].number_format == '#,##0.0" %"'
    numbers = [c.value for s in workbook for r in s.iter_rows(min_row=3) for c in r[1:8] if isinstance(c.value, (int, float))]
    assert len(numbers) == 554


def test_kostra_validate_and_baseline_build(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["kostra", "validate"], env=env)
    assert result.exit_code == 0 and "85 KOSTRA-rader i 6 tjenesteområder" in result.stdout
    out = tmp_path / "k.csv"
    result = CliRunner().invoke(cli, ["kostra", "baseline-build", "--seed", str(SEED_PATH), "--out", str(out)], env=env)
    assert result.exit_code == 0 and "554 celler" in result.stdout
    assert out.read_bytes() == kostra_baseline_path().read_bytes()


def test_init_without_kostra_yaml_skips_the_kostra_baseline(tmp_path: Path) -> None:
    catalogue = tmp_path / "indicators.yaml"
    catalogue.write_text((REPO / "indicators.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["init"], env={"MONITOR_DB": str(tmp_path / "y.db"), "MONITOR_CATALOGUE": str(catalogue)})
    assert result.exit_code == 0 and "352 nye verdier" in result.stdout and "KOSTRA" not in result.stdout


def test_related_indicators_exist_in_the_catalogue(kostra: KostraCatalogue) -> None:
    from monitor.catalogue.indicators import load_catalogue

    catalogue = load_catalogue(REPO / "indicators.yaml")
    related = {row.id: row.indicator for row in kostra.rows if row.indicator is not None}
    assert related == {
        "st_vedlikehold_per_kvm": "vedlikehold_formalsbygg", "st_lekkasje": "lekkasje_vannforsyning",
        "st_materialgjenvinning": "materialgjenvinning", "st_husholdningsavfall_per_innbygger": "husholdningsavfall_per_innbygger",
        "st_energibruk_per_kvm": "energibruk_kommunale_bygg",
    }
    assert set(related.values()) <= set(catalogue.by_id)
    assert kostra.unknown_indicators(set(catalogue.by_id)) == []
    assert kostra.unknown_indicators(set(catalogue.by_id) - {"lekkasje_vannforsyning"}) == [
        "st_lekkasje: indikatoren lekkasje_vannforsyning finnes ikke i katalogen"]
