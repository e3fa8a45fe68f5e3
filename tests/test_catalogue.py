from __future__ import annotations

from pathlib import Path

import pytest

from support.paths import FIXTURES
from monitor.catalogue.indicators import BandsTarget, Catalogue, load_catalogue
from monitor.core.errors import CatalogueError

SMALL = (FIXTURES / "catalogue" / "small.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing `needle`."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def problems_for(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "indicators.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    return [problem.replace(str(path), "indicators.yaml") for problem in caught.value.problems]


def test_small_catalogue_loads(small_catalogue: Catalogue) -> None:
    assert [i.id for i in small_catalogue.indicators] == [
        "netto_driftsresultat", "sykefravaer", "medarbeiderskap", "kommune_nm_total"
    ]
    target = small_catalogue.get("netto_driftsresultat").target
    assert isinstance(target, BandsTarget) and (target.desired, target.acceptable) == (3, 1.75)
    assert small_catalogue.get("netto_driftsresultat").path == "fetch:ssb"
    assert small_catalogue.get("sykefravaer").path == "import"
    assert small_catalogue.municipality.code_for(2019) == "0220"
    assert small_catalogue.municipality.code_for(2020) == "3025"
    assert small_catalogue.municipality.code_for(2024) == "3203"


def test_bad_enum_unknown_field_and_duplicate_id_are_all_reported(tmp_path: Path) -> None:
    text = (
        SMALL.replace("frequency: biennial", "frequency: every_other_year")
        .replace("    unit: rank\n", "    unit: rank\n    colour: red\n")
        .replace("id: kommune_nm_total", "id: sykefravaer")
    )
    assert problems_for(tmp_path, text) == [
        f"indicators.yaml:{line_of(text, 'every_other_year')}: indikator 'medarbeiderskap' (#3) → frequency: "
        "ugyldig verdi 'every_other_year'; tillatt: 'annual', 'biennial', 'triennial', 'quadrennial', 'sporadic' eller 'unknown'",
        f"indicators.yaml:{line_of(text, 'colour: red')}: indikator 'sykefravaer' (#4) → colour: ukjent felt",
        f"indicators.yaml:{line_of(text, 'id: sykefravaer', 2)}: indikator 'sykefravaer' (#4) → id: id-en er brukt før, "
        f"i indicators på linje {line_of(text, 'id: sykefravaer')}",
    ]


@pytest.mark.parametrize(
    "old,new,needle,expected",
    [
        ("source: {kind: register, name: Asker kommune}", "source: {kind: register}", "kind: register}",
         "indikator 'sykefravaer' (#2) → source.name: obligatorisk felt mangler"),
        ("    source: {kind: register, name: NHO Kommune-NM}\n", "", "id: kommune_nm_total",
         "indikator 'kommune_nm_total' (#4) → source: obligatorisk felt mangler"),
        ("      desired: 3\n", "      desired: 1\n", "    target:",
         "indikator 'netto_driftsresultat' (#1) → target: bands: `desired` må ligge på den gode siden av `acceptable`"),
        ("kind: bands", "kind: wishful", "kind: wishful",
         "indikator 'netto_driftsresultat' (#1) → target.kind: ugyldig kind 'wishful'; tillatt: 'bands', 'threshold', 'trajectory'"),
        ('name: SSB 12143, table: "12143"', 'name: SSB 12143, table: "1214"', 'table: "1214"',
         "indikator 'netto_driftsresultat' (#1) → source.table: tabellnummeret '1214' må være fem sifre i anførselstegn, f.eks. \"01222\""),
        ("source: {kind: register, name: Asker kommune}", 'source: {kind: register, name: Asker kommune, table: "12143"}',
         'name: Asker kommune, table', "indikator 'sykefravaer' (#2) → source: `table` gjelder bare SSB-kilder, ikke kind 'register'"),
        ("    scale: [1, 5]\n", "", "id: medarbeiderskap",
         "indikator 'medarbeiderskap' (#3) → (item): `scale` kreves for enheten 'scale' og er ikke tillatt for andre enheter"),
        ("    decimals: 0\n", "    decimals: null\n", "decimals: null",
         "indikator 'kommune_nm_total' (#4) → decimals: må være et tall, ikke None"),
        ("after: netto_driftsresultat", "after: finnes_ikke", "after: finnes_ikke",
         "plassholder #1 → after: ingen indikator med id 'finnes_ikke'"),
        ("id: neet_16_66", "id: sykefravaer", "id: sykefravaer",
         "utgått indikator 'sykefravaer' (#1) → id: id-en er brukt før, i indicators på linje {first}"),
    ],
)
def test_each_problem_is_located(tmp_path: Path, old: str, new: str, needle: str, expected: str) -> None:
    assert old in SMALL
    text = SMALL.replace(old, new)
    occurrence = 2 if needle == "id: sykefravaer" else 1
    line = line_of(text, needle, occurrence)
    expected = expected.replace("{first}", str(line_of(text, "id: sykefravaer")))
    assert problems_for(tmp_path, text) == [f"indicators.yaml:{line}: {expected}"]


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    text = SMALL.replace("    frequency: biennial\n", "    frequency: biennial\n    frequency: annual\n")
    assert problems_for(tmp_path, text) == [
        f"indicators.yaml:{line_of(text, 'frequency: biennial') + 1}: nøkkelen 'frequency' står to ganger"
    ]


def test_broken_yaml_is_located(tmp_path: Path) -> None:
    text = SMALL.replace("    frequency: biennial\n", "    frequency: [biennial\n")
    [problem] = problems_for(tmp_path, text)
    assert problem.startswith("indicators.yaml:") and "ugyldig YAML" in problem


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="kan ikke lese katalogen"):
        load_catalogue(tmp_path / "nope.yaml")


# Every selected code is labelled (nokkel/803's MALTALL too: "gjennomsnittlig eksponeringsnivå", seen in public saved
# outputs of live queries, fhi-api/PROVENANCE.md); a code whose label was never seen would be listed here.
UNLABELLED: set[tuple[str, str]] = set()


def test_every_code_of_every_fetch_block_has_the_sources_label_and_every_ssb_series_a_unit() -> None:
    from monitor.catalogue.kostra import load_kostra
    from monitor.core.fetchspec import SsbSeries, UdirByLabel

    root = Path(__file__).resolve().parent.parent
    catalogue = load_catalogue(root / "indicators.yaml")
    owned: list[tuple[str, object]] = [
        (indicator.id, series)
        for indicator in catalogue.indicators if indicator.fetch is not None
        for series in indicator.fetch.series.values()
    ]
    owned += [(f"kostra.{row.id}", series) for row, series in load_kostra(root / "kostra.yaml").fetched_series]
    missing = []
    for owner, series in owned:
        if not hasattr(series, "select"):
            continue  # no codes to label: a JSON field of barnehagefakta.no (its meaning is checked online, 0–100)
        labelled = {(dimension, code) for dimension, code, _ in series.expected_labels()}  # type: ignore[attr-defined]
        for dimension, chosen in series.select.items():  # type: ignore[attr-defined]
            if isinstance(chosen, UdirByLabel):
                continue  # chosen by its label: the label is the selection
            for code in [chosen] if isinstance(chosen, str) else chosen:
                if (dimension, code) not in labelled and (owner, dimension) not in UNLABELLED:
                    missing.append(f"{owner}: {dimension}={code} har ingen etikett")
        if isinstance(series, SsbSeries) and series.unit is None:
            missing.append(f"{owner}: ingen enhet")
    assert missing == []
