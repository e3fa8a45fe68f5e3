"""The seed parser against the real Handlingsprogram 2024–2027 text and small synthetic tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.seed.handlingsprogram import (
    Cell,
    DelmalRow,
    IndicatorRow,
    PlaceholderRow,
    SeedError,
    build_baseline_rows,
    normalise,
    parse_area_tables,
    parse_cell,
    parse_metadata,
    parse_retired,
    split_name,
    write_baseline_csv,
)

from support.paths import REPO, SEED_PATH


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(REPO / "indicators.yaml")


# --- cells -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15,1 %", Cell(15.1, None, 1, "%")),
        ("115 kr/m²", Cell(115.0, None, 0, "kr/m²")),
        ("115 kr/m <sup>2</sup>", Cell(115.0, None, 0, "kr/m²")),
        ("1 748", Cell(1748.0, None, 0, None)),
        ("1767", Cell(1767.0, None, 0, None)),
        ("722 GWh", Cell(722.0, None, 0, "GWh")),
        ("4,7 µg/m3", Cell(4.7, None, 1, "µg/m3")),
        ("-0,7 %", Cell(-0.7, None, 1, "%")),
        ("-101 %", Cell(-101.0, None, 0, "%")),
        ("27,6 kg/m2", Cell(27.6, None, 1, "kg/m2")),
        ("72 134 574", Cell(72134574.0, None, 0, None)),
        ("0,63 %", Cell(0.63, None, 2, "%")),
        ("4,2", Cell(4.2, None, 1, None)),
        ("0 %", Cell(0.0, None, 0, "%")),
        ("Ikke målt", Cell(None, "not_measured", None, None)),
        ("Tall kommer", Cell(None, "pending", None, None)),
    ],
)
def test_parse_cell(raw: str, expected: Cell) -> None:
    assert parse_cell(raw) == expected


@pytest.mark.parametrize("raw", ["", "n/a", "1,2,3", "12 34", "—"])
def test_parse_cell_rejects_garbage(raw: str) -> None:
    with pytest.raises(SeedError, match="kan ikke lese cellen"):
        parse_cell(raw)


# --- tag normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Vedlikehold per m <sup>2</sup> i formålsbygg (> 140 kr/ m <sup>2</sup> )", "Vedlikehold per m² i formålsbygg (> 140 kr/ m²)"),
        ("målt i kg CO <sub>2</sub> e/BTA/ år", "målt i kg CO₂e/BTA/ år"),
        ("tonn CO <sup>2</sup> -ekvivalenter", "tonn CO²-ekvivalenter"),
        ("utslipp av tonn CO <sub>2</sub> e, for å kunne", "utslipp av tonn CO₂e, for å kunne"),
        ("(i tonn CO <sub>2</sub> - ekvivalenter)", "(i tonn CO₂- ekvivalenter)"),
        ("mål i CO <sub>2</sub> e\".", "mål i CO₂e\"."),
        ("Mengde avfall, kg/m <sup>2</sup>", "Mengde avfall, kg/m²"),
        ("<b>MEDARBEIDERE</b>", "MEDARBEIDERE"),
        ("  plain text ", "plain text"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_split_name_cuts_both_italic_remark_forms() -> None:
    assert split_name("Lekkasje fra vannforsyningsnett ( <i>Metodikken er forbedret</i> )") == (
        "Lekkasje fra vannforsyningsnett",
        "Metodikken er forbedret",
    )
    assert split_name("Andel til lekkasje <i>(Metodikken er forbedret)</i>") == ("Andel til lekkasje", "Metodikken er forbedret")
    assert split_name("Befolkningsvekst") == ("Befolkningsvekst", None)
    # a plain (non-italic) parenthesis stays in the name
    assert split_name("Disposisjonsfond (> 10 %)") == ("Disposisjonsfond (> 10 %)", None)


# --- the eight satsingsområde tables ------------------------------------------------------------


def test_eight_tables_with_titles_headings_and_counts(seed: str) -> None:
    tables = parse_area_tables(seed)
    assert [t.title for t in tables] == [
        "ØKONOMI",
        "MEDARBEIDERE",
        "SAMARBEID FOR Å NÅ MÅLENE",
        "BÆREKRAFTIGE BYER OG SAMFUNN",
        "HANDLING MOT KLIMAENDRINGENE",
        "GOD HELSE",
        "GOD UTDANNING",
        "INNOVASJON, DIGITALISERING OG NÆRINGSUTVIKLING",
    ]
    assert [t.heading for t in tables] == [
        "Økonomi",
        "Medarbeidere",
        "Samarbeid for å nå målene",
        "Bærekraftige byer og samfunn",
        "Handling mot klimaendringene",
        "God helse",
        "God utdanning",
        "Innovasjon, digitalisering og næringsutvikling",
    ]
    assert all(t.heading.upper() == t.title for t in tables)
    assert [len(t.indicators) for t in tables] == [4, 7, 7, 19, 12, 12, 17, 10]
    assert sum(len(t.indicators) for t in tables) == 88
    assert [len([r for r in t.rows if isinstance(r, DelmalRow)]) for t in tables] == [2, 4, 3, 6, 2, 4, 4, 3]
    assert [t.line for t in tables] == [541, 564, 592, 622, 660, 689, 718, 752]


def test_first_table_is_not_bold_and_parsed_fully(seed: str) -> None:
    okonomi = parse_area_tables(seed)[0]
    assert okonomi.hovedmal == "Asker er en økonomisk robust og bærekraftig kommune"
    assert [type(r).__name__ for r in okonomi.rows] == [
        "DelmalRow", "IndicatorRow", "IndicatorRow", "IndicatorRow", "IndicatorRow", "DelmalRow", "PlaceholderRow",
    ]
    vedlikehold = okonomi.indicators[3]
    assert vedlikehold.name == "Vedlikehold per m² i formålsbygg (> 140 kr/ m²)"
    assert vedlikehold.cells == ("Ikke målt", "115 kr/m²", "99 kr/m²", "132 kr/m²")
    assert vedlikehold.delmal == "Asker kommune har en god økonomisk bærekraft"
    assert vedlikehold.line == 548
    assert okonomi.placeholders == [
        PlaceholderRow("Indikator under utvikling", "Asker kommune har god økonomistyring og effektiv tjenesteproduksjon", 550)
    ]


def test_tables_continue_across_blank_lines_and_end_at_headings(seed: str) -> None:
    tables = {t.heading: t for t in parse_area_tables(seed)}
    byer = tables["Bærekraftige byer og samfunn"]
    # line 638 is blank; the row after it still belongs to the table, under the delmål above the blank
    trygt = next(r for r in byer.indicators if r.line == 639)
    assert trygt.name.startswith("Andelen ungdomsskoleelever som opplever at det er trygt")
    assert trygt.delmal == "Asker kommune forebygger og håndterer konsekvensene av uønskede hendelser"
    assert byer.indicators[-1].name == "Omdisponering av dyrket og dyrkbar jord til andre formål enn landbruk, dekar"
    utdanning = tables["God utdanning"]
    names = [r.name for r in utdanning.indicators]
    assert "Elevenes motivasjon for skole og skolearbeide (7. og 10. trinn), skala 1-5 hvor 5 er best" in names
    # the Økonomi table ends at "### Medarbeidere", the last one at "## Økonomiske rammebetingelser"
    assert tables["Økonomi"].rows[-1].line == 550
    assert tables["Innovasjon, digitalisering og næringsutvikling"].indicators[-1].cells == ("47 %", "-101 %", "83 %", "49 %")


def test_placeholders_and_remarks(seed: str) -> None:
    tables = parse_area_tables(seed)
    placeholders = [(t.heading, p.text) for t in tables for p in t.placeholders]
    assert placeholders == [
        ("Økonomi", "Indikator under utvikling"),
        ("Medarbeidere", "Rapporteres kvalitativt"),
        ("Handling mot klimaendringene", "Indikator under utvikling"),
        ("God helse", "Indikator under utvikling"),
    ]
    klima = tables[4]
    assert isinstance(klima.rows[1], PlaceholderRow)  # first row after the first delmål
    utslipp = klima.indicators[0]
    assert utslipp.name == "Mengde direkte klimagassutslipp i Askersamfunnet, tonn CO²-ekvivalenter"
    assert utslipp.remark is not None and utslipp.remark.startswith("Tidsserien er etterkorrigert")
    assert utslipp.cells == ("232 966", "219 333", "214 899", "212 196")
    remarks = [r.name for t in tables for r in t.indicators if r.remark]
    assert remarks == [
        "Andel av befolkningen tilknyttet kommunal vannforsyning",
        "Lekkasje fra vannforsyningsnett",
        "Mengde direkte klimagassutslipp i Askersamfunnet, tonn CO²-ekvivalenter",
    ]
    indirekte = klima.indicators[9]
    assert indirekte.name == (
        "Indirekte klimagassutslipp fra materialbruk i årets ferdigstille kommunale byggeprosjekter, målt i kg CO₂e/BTA/ år"
    )


def test_no_markup_left_in_table_text(seed: str) -> None:
    for table in parse_area_tables(seed):
        texts = [table.title, table.hovedmal]
        for row in table.rows:
            texts += [row.text] if isinstance(row, (DelmalRow, PlaceholderRow)) else [row.name, *row.cells]
        assert not any("<" in text and ">" in text and "</" in text for text in texts)


SYNTHETIC = (
    "## Område\n\nIntro.\n\n"
    "<b>OMRÅDE</b>\t\t\t\t\n<b>Hovedmål</b>\t\t\t\t\n"
    "<b>Indikator</b>\t<b>2019</b>\t<b>2020</b>\t<b>2021</b>\t<b>2022</b>\n"
    "<b>Delmål A</b>\t\t\t\t\nEn\t1 %\t2 %\tIkke målt\tTall kommer\n\n"
    "To ( <i>merk</i> )\t1\t2\t3\t4\n<b>Delmål B</b>\t\t\t\t\nRapporteres kvalitativt\t\t\t\t\n"
    "## Neste\n\nTekst\tmed\ttabulator\n"
)


def test_synthetic_table_boundaries() -> None:
    [table] = parse_area_tables(SYNTHETIC)
    assert (table.heading, table.title, table.hovedmal, table.line) == ("Område", "OMRÅDE", "Hovedmål", 5)
    assert table.rows == (
        DelmalRow("Delmål A", 8),
        IndicatorRow("En", None, ("1 %", "2 %", "Ikke målt", "Tall kommer"), "Delmål A", 9),
        IndicatorRow("To", "merk", ("1", "2", "3", "4"), "Delmål A", 11),
        DelmalRow("Delmål B", 12),
        PlaceholderRow("Rapporteres kvalitativt", "Delmål B", 13),
    )


def test_malformed_rows_fail_loudly_with_the_line() -> None:
    with pytest.raises(SeedError, match="linje 9: ventet 5 tabulatordelte celler"):
        parse_area_tables(SYNTHETIC.replace("En\t1 %\t2 %", "En\t1 %"))
    with pytest.raises(SeedError, match="line 9: neither"):
        parse_area_tables(SYNTHETIC.replace("En\t1 %\t2 %", "En\t\t2 %"))


# --- metadata and retired ------------------------------------------------------------------------


def test_metadata_rows(seed: str) -> None:
    rows = parse_metadata(seed)
    assert len(rows) == 88
    assert list(dict.fromkeys(r.area for r in rows)) == [
        "Økonomi",
        "Medarbeidere",
        "Samarbeid for å nå målene",
        "Bærekraftige byer og samfunn",
        "Handling mot klimaendringer",
        "God helse",
        "God utdanning",
        "Innovasjon, digitalisering og næringsutvikling",
    ]
    first = rows[0]
    assert (first.name, first.kilde, first.frekvens, first.merknader, first.line) == (
        "Disposisjonsfond som andel av brutto driftsinntekter (> 10 %)", "Asker kommune", "Årlig", "", 4334,
    )
    assert rows[4].name == "Sykefraværspersent"
    lekkasje = next(r for r in rows if r.kilde == "SSB 11787")
    assert lekkasje.name == "Andel av total kommunal vannleveranse til lekkasje"
    assert lekkasje.remark == (
        "Metodikken for innhenting av tall er forbedret i 2022. "
        "Dette gjør det utfordrende å sammenligne tallene med foregående år"
    )
    avfall = next(r for r in rows if r.name.startswith("Mengde avfall"))
    assert avfall.name == "Mengde avfall fra kommunale byggeprosjekter, kg/m²"
    # the row after the stray "--\t---" rule line and a blank line is still read
    over_80 = next(r for r in rows if r.kilde == "SSB 12209")
    assert (over_80.area, over_80.line) == ("God helse", 4429)
    last = rows[-1]
    assert (last.name, last.kilde, last.line) == ("Andelen vekst i arbeidsplasser av befolkningsveksten", "SSB 01222 og SSB 07984", 4473)
    assert sum(1 for r in rows if r.kilde.startswith("SSB ")) == 22


def test_retired_rows_include_the_last_line_without_newline(seed: str) -> None:
    assert not seed.endswith("\n")
    assert len(seed.splitlines()) == 4483
    rows = parse_retired(seed)
    assert [r.name for r in rows] == [
        "Andelen kommunale bygg- og anleggsplasser der det kun brukes maskiner og kjøretøy som er utslippsfrie eller går på biogass",
        "Reduksjon (i tonn CO₂- ekvivalenter) i indirekte klimagassutslipp fra materialbruk i kommunale byggeprosjekter, "
        "målt i forhold til et referansebygg bygget etter TEK17 (Det ble laget klimaregnskap til kun ett av seks "
        "byggeprosjekter ferdigstilt i 2022)",
        "Andelen innbyggere som mener de har klimavennlig atferd",
        "Andelen kommunale nybygg med nær null energi standard",
        "Andelen kommunale nybygg som er nullutslippsbygg",
        "Andelen innbyggere (16-66 år) som verken er i arbeid eller utdanning",
        "Andelen husholdninger med LoRaWan",
    ]
    assert rows[4].comment is None
    assert rows[5].comment == "Finnes ikke lenger måltall for denne målgruppen."
    lorawan = rows[-1]
    assert lorawan.line == 4483
    assert lorawan.comment is not None
    assert lorawan.comment.startswith("Teknologiutviklingen gjør at flere teknologier enn LoRaWan")
    assert lorawan.comment.endswith("se dette som ett logisk nettverk.")


# --- baseline rows -----------------------------------------------------------------------------


def test_baseline_rows(seed: str, catalogue: Catalogue) -> None:
    rows = build_baseline_rows(seed, catalogue)
    assert len(rows) == 352
    assert set(rows[0]) == {"indicator_id", "period", "value", "status", "printed"}
    cell = {(r["indicator_id"], r["period"]): r for r in rows}
    assert cell[("netto_driftsresultat", 2022)] == {
        "indicator_id": "netto_driftsresultat", "period": 2022, "value": -0.7, "status": None, "printed": "-0,7 %",
    }
    assert cell[("vedlikehold_formalsbygg", 2019)]["status"] == "not_measured"
    assert cell[("vedlikehold_formalsbygg", 2020)]["printed"] == "115 kr/m²"
    assert cell[("befolkningsvekst", 2019)]["value"] == 0.8
    assert cell[("energibruk_kommunale_bygg", 2020)]["value"] == 72134574
    assert cell[("introduksjonsprogram_arbeid_utdanning", 2022)]["status"] == "pending"


def test_baseline_fails_loudly_on_unmatched_rows(seed: str, catalogue: Catalogue) -> None:
    renamed = list(catalogue.indicators)
    renamed[0] = renamed[0].model_copy(update={"name": "Noe annet"})
    with pytest.raises(SeedError, match=r"line 545: seed row 'Disposisjonsfond som andel .*' \(Økonomi\) matches no catalogue"):
        build_baseline_rows(seed, catalogue.model_copy(update={"indicators": renamed}))
    swapped = list(catalogue.indicators)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(SeedError, match=r"#1 in the seed but #2 \('disposisjonsfond'\)"):
        build_baseline_rows(seed, catalogue.model_copy(update={"indicators": swapped}))
    extra = catalogue.indicators[-1].model_copy(update={"id": "ekstra", "name": "Ekstra"})
    with pytest.raises(SeedError, match="uten rad i handlingsprogramteksten: ekstra"):
        build_baseline_rows(seed, catalogue.model_copy(update={"indicators": [*catalogue.indicators, extra]}))


def test_write_baseline_csv(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"indicator_id": "a", "period": 2019, "value": -0.7, "status": None, "printed": "-0,7 %"},
        {"indicator_id": "a", "period": 2020, "value": 72134574.0, "status": None, "printed": "72 134 574"},
        {"indicator_id": "a", "period": 2021, "value": 18.0, "status": None, "printed": "18,0 %"},
        {"indicator_id": "a", "period": 2022, "value": None, "status": "pending", "printed": "Tall kommer"},
    ]
    out = tmp_path / "baseline.csv"
    write_baseline_csv(rows, out)
    assert out.read_text(encoding="utf-8") == (
        "indicator_id,period,value,status,printed\n"
        'a,2019,-0.7,,"-0,7 %"\n'
        "a,2020,72134574,,72 134 574\n"
        'a,2021,18.0,,"18,0 %"\n'
        "a,2022,,pending,Tall kommer\n"
    )
    with out.open(encoding="utf-8", newline="") as handle:
        assert [r["value"] for r in csv.DictReader(handle)] == ["-0.7", "72134574", "18.0", ""]
