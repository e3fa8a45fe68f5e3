"""The real indicators.yaml against the seed text, and located validation errors for a broken copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.catalogue.indicators import BandsTarget, Catalogue, Indicator, ThresholdTarget, TrajectoryTarget, load_catalogue
from monitor.core.errors import CatalogueError
from monitor.seed.handlingsprogram import (
    AreaTable,
    IndicatorRow,
    MetadataRow,
    PlaceholderRow,
    build_baseline_rows,
    parse_area_tables,
    parse_cell,
    parse_metadata,
    parse_retired,
    write_baseline_csv,
)

from support.paths import REPO, SEED_PATH
CATALOGUE_PATH = REPO / "indicators.yaml"
BASELINE_PATH = REPO / "monitor" / "data" / "baseline.csv"

FREQUENCIES = {
    "Årlig": "annual",
    "Hvert andre år": "biennial",
    "Hvert tredje år": "triennial",
    "Hvert fjerde år": "quadrennial",
    "Sporadisk": "sporadic",
    "Ukjent": "unknown",
}
SURVEYS = {
    "Ungdata",
    "Medarbeiderundersøkelsen, KS",
    "Lokaldemokratiundersøkelsen, KS",
    "Innbyggerundersøkelse, Sentio",
    "Folkehelseundersøkelse Viken",
    "Nasjonale reisevaneundersøkelse",
}
UDIR = {"Elevundersøkelsen", "Foreldreundersøkelsen", "Utdanningsdirektoratet"}

# Named seed inconsistencies between the metadata table and the satsingsområde tables.
METADATA_AREA_SPELLING = {"Handling mot klimaendringer": "Handling mot klimaendringene"}
METADATA_DELMAL_SPELLING = {
    # metadata delmål → table delmål
    "Askersmfunnet har inkluderende og trygge oppvekstmiljøer med leke- og læringsarenaer som fremmer sosial "
    "kompetanse, mestring, tilhørighet og god helse": "Askersamfunnet har inkluderende og trygge oppvekstmiljøer "
    "med leke- og læringsarenaer som fremmer sosial kompetanse, mestring, tilhørighet og god helse",
    "Askersamfunnet er i front for lavutslippssamfunnet i tråd med internasjonale klimaforpliktelser og regionale "
    "ambisjoner": "Askersamfunnet er i front for lavutslippssamfunnet i tråd med internasjonale og nasjonale "
    "klimaforpliktelser og regionale ambisjoner",
    "Asker kommune har medarbeidere og ledere som i fellesskap utfører det unike samfunnsoppdraget og når kommunens "
    "mål, og bidrar til at innbyggerne har tillit til kommunen": "Asker kommune har medarbeidere og ledere som i "
    "fellesskap utfører det unike samfunnsoppdraget og når kommunens mål, og bidrar til at innbyggerne har tillit "
    "til kommunen.",
}
# The metadata table has no row for this Medarbeidere delmål; its four indicators sit under the one before.
METADATA_MISSING_DELMAL = (
    "Asker kommune er en attraktiv arbeidsgiver med god organisasjonskultur som legger til rette for å tiltrekke "
    "seg og utvikle kompetente, initiativrike og stolte medarbeidere og ledere"
)
# Printed values that break the thousands-space convention of the rest of the tables.
THOUSANDS_EXCEPTIONS = {("bosatte_per_km2_tettsted", 2022): "1767"}  # "1 748", "1 762", "1 763", then "1767"


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE_PATH)


@pytest.fixture(scope="module")
def tables(seed: str) -> list[AreaTable]:
    return parse_area_tables(seed)


@pytest.fixture(scope="module")
def pairs(catalogue: Catalogue, tables: list[AreaTable], seed: str) -> list[tuple[Indicator, AreaTable, IndicatorRow, MetadataRow]]:
    """(indicator, its table, its table row, its metadata row), by position."""
    rows = [(table, row) for table in tables for row in table.indicators]
    metadata = parse_metadata(seed)
    assert len(rows) == len(metadata) == len(catalogue.indicators) == 88
    return [(ind, table, row, meta) for ind, (table, row), meta in zip(catalogue.indicators, rows, metadata)]


def test_catalogue_validates_with_88_unique_ids(catalogue: Catalogue) -> None:
    ids = [ind.id for ind in catalogue.indicators]
    assert len(ids) == 88
    assert len(set(ids)) == 88
    retired_ids = {r.id for r in catalogue.retired}
    assert len(retired_ids) == 7
    assert not retired_ids & set(ids)


def test_municipality(catalogue: Catalogue) -> None:
    codes = [(c.code, c.first_year, c.last_year) for c in catalogue.municipality.codes]
    assert catalogue.municipality.name == "Asker"
    assert codes == [("0220", None, 2019), ("3025", 2020, 2023), ("3203", 2024, None)]
    assert catalogue.municipality.code_for(2019) == "0220"
    assert catalogue.municipality.code_for(2022) == "3025"
    assert catalogue.municipality.current_code == "3203"


Pairs = list[tuple[Indicator, AreaTable, IndicatorRow, MetadataRow]]


def test_texts_match_the_satsingsomrade_tables(pairs: Pairs) -> None:
    for ind, table, row, _meta in pairs:
        assert ind.name == row.name, ind.id
        assert ind.area == table.heading, ind.id
        assert ind.area.upper() == table.title, ind.id
        assert ind.hovedmal == table.hovedmal, ind.id
        assert ind.delmal == row.delmal, ind.id


def test_parser_spot_checks_against_literal_text(pairs: Pairs) -> None:
    by_id = {ind.id: (table, row, meta) for ind, table, row, meta in pairs}
    table, row, meta = by_id["netto_driftsresultat"]
    assert row.name == "Netto driftsresultat som andel av brutto driftsinntekter (> 3 %)"
    assert (meta.kilde, meta.frekvens, meta.merknader) == ("SSB 12143", "Årlig", "")
    assert table.hovedmal == "Asker er en økonomisk robust og bærekraftig kommune"
    table, row, meta = by_id["sykefravaer"]
    assert (row.name, meta.name) == ("Sykefraværsprosent", "Sykefraværspersent")
    table, row, meta = by_id["lekkasje_vannforsyning"]
    assert (row.name, meta.name, meta.kilde) == (
        "Lekkasje fra vannforsyningsnett", "Andel av total kommunal vannleveranse til lekkasje", "SSB 11787",
    )
    table, row, meta = by_id["introduksjonsprogram_arbeid_utdanning"]
    assert (meta.kilde, meta.merknader) == ("SSB 10824", "Etterslep.")
    table, row, meta = by_id["arbeidsplassvekst_av_befolkningsvekst"]
    assert meta.kilde == "SSB 01222 og SSB 07984"
    table, row, meta = by_id["pavirke_beslutninger"]
    assert (meta.kilde, meta.frekvens) == ("Lokaldemokratiundersøkelsen, KS", "Hvert fjerde år")
    table, row, meta = by_id["fullfort_videregaende"]
    assert (meta.kilde, meta.merknader) == ("Kommunehelse statistikkbank", "Ett års etterslep.")
    table, row, meta = by_id["befolkningsvekst"]
    assert (table.title, row.delmal) == (
        "BÆREKRAFTIGE BYER OG SAMFUNN",
        "Askersamfunnet har bærekraftige og samordnede bolig-, areal- og transportløsninger som tilrettelegger for smart samfunnsutvikling",
    )


def test_metadata_names_areas_and_delmal(pairs: Pairs) -> None:
    differing = []
    for ind, table, row, meta in pairs:
        assert (ind.metadata_name or ind.name) == meta.name, ind.id
        if ind.metadata_name is not None:
            assert ind.metadata_name != ind.name, f"{ind.id}: metadata_name only where it differs"
            differing.append(ind.id)
        assert METADATA_AREA_SPELLING.get(meta.area, meta.area) == table.heading, ind.id
        expected_delmal = METADATA_DELMAL_SPELLING.get(meta.delmal, meta.delmal)
        if row.delmal == METADATA_MISSING_DELMAL:
            assert meta.delmal != row.delmal
        else:
            assert expected_delmal == row.delmal, ind.id
        assert meta.remark in (None, row.remark), ind.id
    assert differing == [
        "sykefravaer",
        "medarbeiderskap_lederskap",
        "drikkevann_prover",
        "renseanlegg_rensekrav",
        "lekkasje_vannforsyning",
        "avfall_byggeprosjekter",
        "klimamal_viktig",
        "indirekte_utslipp_byggeprosjekter",
        "vaksinert_meslinger",
        "skolebidrag_5_7_trinn",
        "skolebidrag_8_10_trinn",
    ]


def _kind(kilde: str) -> str:
    if kilde.startswith("SSB "):
        return "ssb"
    if kilde == "Kommunehelse statistikkbank":
        return "fhi"
    if kilde in UDIR:
        return "udir"
    if kilde in SURVEYS:
        return "survey"
    if kilde == "Under utvikling":
        return "other"
    return "register"


# Printed with a Kilde that is not SSB, but fetched from the SSB table that publishes the figure (issue 20): id → tables.
# The printed Kilde stays the name; every other indicator's kind and tables follow the printed Kilde.
# netto_lanegjeld is imported (the plan's source, the kommune's own accounts); 12143 is only its control figure.
FETCHED_FROM_SSB = {"valgdeltakelse_endring": ["09475", "08243"], "arsverk_fagutdanning_helse": ["12209"]}


def test_sources_frequency_lag_and_notes_match_the_metadata(pairs: Pairs) -> None:
    for ind, _table, row, meta in pairs:
        assert ind.source.name == meta.kilde, ind.id
        if ind.id in FETCHED_FROM_SSB:
            assert _kind(meta.kilde) != "ssb" and ind.source.kind.value == "ssb", ind.id
            assert ind.source.tables == FETCHED_FROM_SSB[ind.id], ind.id
        else:
            assert ind.source.kind.value == _kind(meta.kilde), ind.id
            assert ind.source.tables == re.findall(r"SSB (\d{5})", meta.kilde), ind.id
        assert ind.frequency.value == FREQUENCIES[meta.frekvens], ind.id
        expected_lag = 1 if meta.merknader in ("Ett års etterslep.", "Etterslep.") else None
        assert "tterslep" not in meta.merknader or expected_lag == 1, ind.id
        assert ind.lag == expected_lag, ind.id
        expected_notes = "\n".join(part for part in (meta.merknader, row.remark) if part) or None
        assert ind.notes == expected_notes, ind.id


def test_register_sources_are_the_named_bodies(catalogue: Catalogue) -> None:
    registers = {ind.source.name for ind in catalogue.indicators if ind.source.kind.value == "register"}
    assert registers == {
        "Asker kommune",
        "PAI-registeret, KS",
        "Bedre vann",
        "NKOM",
        "Patentstyret",
        "Innovasjon Norge og Forskningsrådet",
        "NHO Kommune-NM",
        "Miljødirektoratet",
    }


def test_ssb_counts(catalogue: Catalogue) -> None:
    ssb = [ind for ind in catalogue.indicators if ind.source.kind.value == "ssb"]
    assert len(ssb) == 24  # 22 printed "SSB …" + FETCHED_FROM_SSB
    tables = {table for ind in ssb for table in ind.source.tables}
    assert len(tables) == 20
    assert {"12143", "12905", "12209"} <= tables  # KOSTRA
    assert catalogue.get("arbeidsplassvekst_av_befolkningsvekst").source.table == ["01222", "07984"]
    assert catalogue.get("befolkningsvekst").source.table == "01222"


def test_placeholders(catalogue: Catalogue, tables: list[AreaTable]) -> None:
    expected = []
    for table in tables:
        last_id = None
        for row in table.rows:
            if isinstance(row, IndicatorRow):
                last_id = next(ind.id for ind in catalogue.indicators if ind.name == row.name)
            elif isinstance(row, PlaceholderRow):
                expected.append((row.text, table.heading, table.hovedmal, row.delmal, last_id))
    actual = [(p.text, p.area, p.hovedmal, p.delmal, p.after) for p in catalogue.placeholders]
    assert actual == expected
    assert [p.after for p in catalogue.placeholders] == [
        "vedlikehold_formalsbygg", "stillingsstorrelse", None, "over_80_bor_hjemme",
    ]


def test_retired(catalogue: Catalogue, seed: str) -> None:
    rows = parse_retired(seed)
    assert [(r.name, r.comment) for r in catalogue.retired] == [(r.name, r.comment) for r in rows]
    assert len(catalogue.retired) == 7
    assert catalogue.retired[-1].name == "Andelen husholdninger med LoRaWan"
    assert catalogue.retired[4].comment is None


def test_targets(catalogue: Catalogue) -> None:
    bands = {
        ind.id: (ind.direction.value, ind.target.desired, ind.target.acceptable)
        for ind in catalogue.indicators
        if isinstance(ind.target, BandsTarget)
    }
    assert bands == {
        "disposisjonsfond": ("higher_is_better", 10, 5),
        "netto_driftsresultat": ("higher_is_better", 3, 1.75),
        "netto_lanegjeld": ("lower_is_better", 80, 100),
        "vedlikehold_formalsbygg": ("higher_is_better", 140, 100),
    }
    assert catalogue.get("netto_driftsresultat").target.text == (
        "Ønsket > 3 %, laveste akseptable 1,75–3 %, ikke godkjent < 1,75 %"
    )
    overlop = catalogue.get("overlop_forurensning").target
    assert isinstance(overlop, ThresholdTarget)
    assert (overlop.op, overlop.value, overlop.text) == ("<", 5, "< 5 % er tilfredsstillende")
    utslipp = catalogue.get("direkte_klimagassutslipp")
    assert utslipp.name.startswith("Mengde direkte klimagassutslipp")
    assert isinstance(utslipp.target, TrajectoryTarget)
    assert (utslipp.target.base_year, utslipp.target.target_year, utslipp.target.change_percent) == (2009, 2030, -67)
    assert utslipp.target.base_value is None
    others = [ind.id for ind in catalogue.indicators if ind.target is not None]
    assert len(others) == 6


def _norwegian(value: float, decimals: int) -> str:
    text = f"{abs(value):,.{decimals}f}".replace(",", " ").replace(".", ",")
    return ("-" if value < 0 else "") + text


def test_every_printed_cell_matches_decimals_and_symbol(catalogue: Catalogue, seed: str) -> None:
    seen_exceptions = {}
    for row in build_baseline_rows(seed, catalogue):
        ind = catalogue.get(str(row["indicator_id"]))
        cell = parse_cell(str(row["printed"]))
        if cell.status is not None:
            continue
        key = (ind.id, row["period"])
        assert cell.decimals == ind.decimals, key
        assert cell.suffix == ind.symbol, key
        assert cell.value is not None
        expected = _norwegian(cell.value, ind.decimals) + (f" {ind.symbol}" if ind.symbol else "")
        if key in THOUSANDS_EXCEPTIONS:
            seen_exceptions[key] = row["printed"]
            assert row["printed"] != expected
        else:
            assert row["printed"] == expected, key
    assert seen_exceptions == THOUSANDS_EXCEPTIONS


def test_units(catalogue: Catalogue) -> None:
    valg = catalogue.get("valgdeltakelse_endring")
    assert (valg.unit.value, valg.symbol, valg.decimals) == ("percentage_points", "%", 1)
    assert catalogue.get("medarbeiderskap_lederskap").scale == (1, 5)
    assert catalogue.get("pavirke_beslutninger").scale == (1, 4)
    assert catalogue.get("frivillige_lag_tilfredshet").scale == (1, 6)
    for ind in catalogue.indicators:
        match = re.search(r"skala (\d)-(\d) hvor (\d) er best", ind.name)
        if match:
            assert ind.unit.value == "scale" and ind.scale == (int(match[1]), int(match[2])), ind.id
            assert ind.direction.value == "higher_is_better"
        if "plassering i Kommune-NM" in ind.name.lower():
            assert (ind.unit.value, ind.direction.value) == ("rank", "lower_is_better")
    assert catalogue.get("sykefravaer").direction.value == "lower_is_better"
    assert catalogue.get("mobbing_7_trinn").direction.value == "lower_is_better"
    assert catalogue.get("befolkningsvekst").direction.value == "none"


def test_the_fetched_udir_indicators_are_bullying_and_the_three_148_indices(catalogue: Catalogue) -> None:
    udir = [i for i in catalogue.indicators if i.source.kind.value == "udir"]
    assert len(udir) == 12
    assert {i.id for i in udir if i.fetch is not None and i.fetch.kind == "udir"} == {  # export tables 150 and 148
        "mobbing_7_trinn", "mobbing_10_trinn", "trivsel_skolen", "vurdering_for_laering", "motivasjon_skole",
    }


def test_committed_baseline_equals_a_fresh_build(catalogue: Catalogue, seed: str, tmp_path: Path) -> None:
    fresh = tmp_path / "baseline.csv"
    write_baseline_csv(build_baseline_rows(seed, catalogue), fresh)
    assert BASELINE_PATH.read_bytes() == fresh.read_bytes()
    lines = BASELINE_PATH.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 352
    assert lines[0] == "indicator_id,period,value,status,printed"
    assert 'netto_driftsresultat,2022,-0.7,,"-0,7 %"' in lines
    assert "vedlikehold_formalsbygg,2019,,not_measured,Ikke målt" in lines
    assert 'befolkningsvekst,2019,0.8,,"0,8 %"' in lines
    assert "energibruk_kommunale_bygg,2020,72134574,,72 134 574" in lines
    assert "bosatte_per_km2_tettsted,2022,1767,,1767" in lines


# --- located validation errors ------------------------------------------------------------------


def _line_of(lines: list[str], text: str, occurrence: int = 1) -> int:
    found = [number for number, line in enumerate(lines, start=1) if line == text]
    assert len(found) >= occurrence, text
    return found[occurrence - 1]


def test_broken_copy_reports_each_problem_with_id_field_and_line(tmp_path: Path, catalogue: Catalogue) -> None:
    ids = [ind.id for ind in catalogue.indicators]
    lines = CATALOGUE_PATH.read_text(encoding="utf-8").splitlines()
    # 1. a bad enum value: frequency of befolkningsvekst
    start = _line_of(lines, "  - id: befolkningsvekst")
    freq = next(i for i in range(start, len(lines)) if lines[i].startswith("    frequency: "))
    lines[freq] = "    frequency: yearly"
    # 2. an unknown field on sykefravaer
    lines.insert(_line_of(lines, "  - id: sykefravaer"), "    colour: red")
    # 3. a duplicate id: heltidsansatte renamed to disposisjonsfond
    lines[_line_of(lines, "  - id: heltidsansatte") - 1] = "  - id: disposisjonsfond"
    broken = tmp_path / "indicators.yaml"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(CatalogueError) as caught:
        load_catalogue(broken)
    problems = caught.value.problems

    number = {ident: position + 1 for position, ident in enumerate(ids)}
    freq_line = _line_of(lines, "    frequency: yearly")
    colour_line = _line_of(lines, "    colour: red")
    first_line = _line_of(lines, "  - id: disposisjonsfond", 1)
    second_line = _line_of(lines, "  - id: disposisjonsfond", 2)
    assert second_line > first_line and freq_line > colour_line
    # "<file>:<line>: <noun> '<id>' (#<n>) → <field>: <message>"; the wording of the message is not tested
    located = re.compile(r"^(?P<file>.+?):(?P<line>\d+): [^']+ '(?P<id>[a-z0-9_]+)' \(#(?P<n>\d+)\) → (?P<field>[\w.]+): (?P<msg>.+)$")
    parsed = []
    for problem in problems:
        match = located.match(problem)
        assert match, problem
        assert match["file"] == str(broken)
        parsed.append((int(match["line"]), match["id"], int(match["n"]), match["field"], match["msg"]))
    assert len(parsed) == 3, problems
    by_field = {field: (line, ident, n, msg) for line, ident, n, field, msg in parsed}
    assert by_field["frequency"][:3] == (freq_line, "befolkningsvekst", number["befolkningsvekst"])
    assert by_field["colour"][:3] == (colour_line, "sykefravaer", number["sykefravaer"])
    assert by_field["id"][:3] == (second_line, "disposisjonsfond", number["heltidsansatte"])
    assert re.search(rf"\b{first_line}\b", by_field["id"][3]), "the duplicate names the line of the first use"
