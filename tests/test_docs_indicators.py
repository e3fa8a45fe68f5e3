"""docs/indicators.md is generated from the catalogue and cannot go stale (issue 20's acceptance).

The committed page must equal what `monitor catalogue docs` makes from indicators.yaml now; the generator's rules
(counts per path, the reason of an import, the UNVERIFIED comments of an indicator's block) are checked on a small
catalogue with hand-worked expectations.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.catalogue.indicators import load_catalogue
from monitor.catalogue.listing import COMMAND, indicators_markdown, unverified_marks
from monitor.cli.catalogue import render
from monitor.cli.main import cli
from support.catalogues import PRODUCTION_CATALOGUE, production_catalogue
from support.paths import REPO

DOCS_PAGE = REPO / "docs" / "indicators.md"
LABELS = {"ssb": "SSB", "fhi": "FHI", "udir": "Udir"}

# Three indicators: one fetched with two UNVERIFIED comments (one after a value) and the word in a quoted name, one
# import with a reason, one import without. The last block ends at `retired:`, whose comment must not count.
SMALL = """\
municipality:
  name: Asker
  codes:
    - {code: "3025", first_year: null, last_year: 2023}
    - {code: "3203", first_year: 2024, last_year: null}
indicators:
  - id: netto_driftsresultat
    name: "Netto driftsresultat # UNVERIFIED i navnet"
    area: "Økonomi"
    hovedmal: "H"
    delmal: "D"
    source: {kind: ssb, name: "SSB 12143", table: "12143"}
    frequency: annual
    unit: percent
    decimals: 1
    direction: higher_is_better
    fetch:
      # UNVERIFIED: that the konsern figure is what the plan prints
      series:
        netto_driftsresultat:
          table: "12143"
          region: {dimension: KOKkommuneregion0000}
          select: {KOKartkap0000: AGD23, ContentsCode: KOSbelopbrinv0000}
          unit: "prosent"  # UNVERIFIED
      value: netto_driftsresultat
  - id: sykefravaer
    name: "Sykefraværsprosent"
    area: "Medarbeidere"
    hovedmal: "H"
    delmal: "D"
    source: {kind: register, name: "Asker kommune"}
    import_reason: "Finnes bare i kommunens HR-system."
    frequency: annual
    unit: share
    decimals: 1
    direction: lower_is_better
  - id: frivillig_arbeid
    name: "Andelen | innbyggere i frivillig arbeid"
    area: "Medarbeidere"
    hovedmal: "H"
    delmal: "D"
    source: {kind: survey, name: "Innbyggerundersøkelse, Sentio"}
    frequency: biennial
    unit: share
    decimals: 0
    direction: higher_is_better
retired:
  # UNVERIFIED: not an indicator's comment
  - {id: gammel, name: "Gammel"}
"""


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "indicators.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path, indicators_markdown(load_catalogue(path), SMALL, LABELS)


def test_the_committed_page_is_what_the_catalogue_makes_now() -> None:
    fresh = render(PRODUCTION_CATALOGUE)
    committed = DOCS_PAGE.read_text(encoding="utf-8") if DOCS_PAGE.is_file() else ""
    assert committed == fresh, f"docs/indicators.md is stale: run `.venv/bin/{COMMAND}` to regenerate it"


def test_every_import_says_why_and_no_fetched_indicator_does() -> None:
    catalogue = production_catalogue()
    missing = [i.id for i in catalogue.indicators if i.fetch is None and i.import_reason is None]
    stray = [i.id for i in catalogue.indicators if i.fetch is not None and i.import_reason is not None]
    assert not missing, f"add `import_reason` (bokmål, one line) to these import-only indicators: {missing}"
    assert not stray, f"these indicators are fetched now: remove their `import_reason` line: {stray}"


def test_the_counts_per_path_add_up_to_the_catalogue() -> None:
    text = render(PRODUCTION_CATALOGUE)
    catalogue = production_catalogue()
    fetched = sum(1 for i in catalogue.indicators if i.fetch is not None)
    assert f"| **on a fetch path** | **{fetched}** |" in text
    assert f"| all | {len(catalogue.indicators)} |" in text
    assert f"| import | {len(catalogue.indicators) - fetched} |" in text
    for indicator in catalogue.indicators:
        assert f"| `{indicator.id}` |" in text


def test_counts_paths_and_reasons_of_a_small_catalogue(small: tuple[Path, str]) -> None:
    _, text = small
    assert "| fetch:ssb (SSB) | 1 |" in text
    assert "| import | 2 |" in text
    assert "| **on a fetch path** | **1** |" in text
    assert "| all | 3 |" in text
    assert "Imported, by the catalogue's source kind: register 1, survey 1." in text
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in text.splitlines() if line.startswith("| `")}
    assert rows["`netto_driftsresultat`"] == (
        "| `netto_driftsresultat` | Netto driftsresultat # UNVERIFIED i navnet | fetch:ssb | SSB `12143`; value: "
        "`netto_driftsresultat` | SSB publishes it through an open API | 2 |"
    )
    assert rows["`sykefravaer`"] == (
        "| `sykefravaer` | Sykefraværsprosent | import | Asker kommune (register) | "
        "«Finnes bare i kommunens HR-system.» |  |"
    )
    # a | in a name is escaped so the table keeps its columns; a missing reason is said, in bold
    assert rows["`frivillig_arbeid`"] == (
        "| `frivillig_arbeid` | Andelen \\| innbyggere i frivillig arbeid | import | "
        "Innbyggerundersøkelse, Sentio (survey) | **no reason recorded** (add `import_reason` in indicators.yaml) |  |"
    )
    assert text.index("### Økonomi") < text.index("### Medarbeidere")


def test_unverified_marks_are_comments_inside_the_indicators_block(small: tuple[Path, str]) -> None:
    path, text = small
    marks = unverified_marks(load_catalogue(path), SMALL)
    assert marks == {
        "netto_driftsresultat": ["UNVERIFIED: that the konsern figure is what the plan prints", "`unit`: UNVERIFIED"],
        "sykefravaer": [],
        "frivillig_arbeid": [],
    }
    assert text.endswith(
        "- `netto_driftsresultat`:\n"
        "  - UNVERIFIED: that the konsern figure is what the plan prints\n"
        "  - `unit`: UNVERIFIED\n"
    )


def test_the_command_writes_the_page_and_check_says_when_it_is_stale(small: tuple[Path, str], tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path, expected = small
    monkeypatch.setenv("MONITOR_CATALOGUE", str(path))
    out = tmp_path / "indicators.md"
    runner = CliRunner()
    written = runner.invoke(cli, ["catalogue", "docs", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8") == expected
    fresh = runner.invoke(cli, ["catalogue", "docs", "--out", str(out), "--check"])
    assert fresh.exit_code == 0 and "stemmer med" in fresh.output
    path.write_text(SMALL.replace('import_reason: "Finnes bare i kommunens HR-system."',
                                  'import_reason: "Bare i HR-systemet."'), encoding="utf-8")
    stale = runner.invoke(cli, ["catalogue", "docs", "--out", str(out), "--check"])
    assert stale.exit_code == 1
    assert f"kjør `{COMMAND}` for å lage den på nytt" in stale.output
    assert "Traceback" not in stale.output


def test_an_import_with_a_control_figure_names_where_the_control_comes_from() -> None:
    text = render(PRODUCTION_CATALOGUE)
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in text.splitlines() if line.startswith("| `")}
    controlled = [i for i in production_catalogue().indicators if getattr(i, "control", None) is not None]
    for indicator in controlled:
        assert "; control figure: " in rows[f"`{indicator.id}`"], indicator.id
    assert all("control figure" not in rows[f"`{i.id}`"] for i in production_catalogue().indicators if i not in controlled)
