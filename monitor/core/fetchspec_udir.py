"""Udir's fetch blocks (export API v2, Elevundersøkelsen): a series, a filter value chosen by its name, the block.

Kept apart from monitor.core.fetchspec to keep that module small; fetchspec re-exports every name, so the rest of the
code imports them from there.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from monitor.core.fetchspec import _STRICT, Expr, _check_labels, _check_series_use, expected_labels


UdirFilter = Literal["TrinnID", "SpoersmaalID"]


class UdirByLabel(BaseModel):
    """A filter value chosen by its name: the one entry of filterVerdier whose `navn` is `label` (compared
    case-insensitively, whitespace normalised, whole name) and whose `kode` begins with `code_prefix`.

    For a code no evidence has shown (the EUG indices «Vurdering for læring», «Motivasjon»): the fetch looks the
    code up on every run, so no guessed code is ever sent; no match, or more than one, fails that query alone.
    """

    model_config = _STRICT

    label: str = Field(min_length=1)
    code_prefix: str = ""  # e.g. "EUIndeks_": an index, never a single question of the same name


class UdirSeries(BaseModel):
    """One series from one table of Udir's statistikkbank export API v2 (Elevundersøkelsen).

    `table` is the export id ("150" EUG-Mobbing, "148" EUG-Indikator), optionally with a query name after a slash
    ("148/trivsel"): series with the same `table` are one query and one run-log entry, so a table shared by
    several indicators can be asked once per indicator, and one failing (a renamed index) leaves the others.
    `measure` is the column of the response rows that holds the value ("AndelMobbet", "Score", "AntallBesvart").
    `select` names filter values by their `kode` in the table's filterVerdier: `TrinnID` the grade ("7", "10"),
    `SpoersmaalID` the question or index ("EUIndeks_1398" is the index «Mobbing på skolen»), or by their name
    (`{label: "Motivasjon", code_prefix: "EUIndeks_"}`, see `UdirByLabel`). The numeric ids the API wants are
    looked up on every run, so a renumbering at Udir does not break the query, and a code Udir drops fails the
    run loudly.

    Kommune: the EnhetID at level 3 (kommune) whose `kode` is one of the kommune's numbers (3203, and
    3025/0220 where Udir still lists them); KjoennID and EierformID are pinned to -10 (alle).

    Period: the survey is held in the autumn; school year "2022-23" (TidID 202212) becomes period
    "2022", the year of the autumn it was surveyed. School years before `first_year` are left out.
    """

    model_config = _STRICT

    table: str = Field(pattern=r"^\d{1,4}(/[a-z][a-z0-9_]*)?$")
    measure: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    select: dict[UdirFilter, Annotated[str, Field(min_length=1)] | UdirByLabel] = Field(min_length=1)
    first_year: int = Field(default=2021, ge=1990, le=2100)
    # what the selected codes mean: Udir's `navn` of each (see `Labels`). Udir states no unit: there is no `unit`.
    # A filter chosen by label has its label already; it is not repeated here.
    labels: dict[UdirFilter, str] = {}

    @model_validator(mode="after")
    def _labels_selected(self) -> UdirSeries:
        twice = sorted(set(self.labels) & set(self.by_label()))
        if twice:
            raise ValueError(f"`labels.{twice[0]}`: filteret velges alt med `label` i `select`")
        _check_labels({str(name): label for name, label in self.labels.items()}, self.by_code())
        return self

    @property
    def export(self) -> str:
        """The export table's id, without the query name ("148/trivsel" → "148")."""
        return self.table.split("/")[0]

    def by_code(self) -> dict[str, str]:
        """The filters `select` names by code."""
        return {str(name): chosen for name, chosen in self.select.items() if isinstance(chosen, str)}

    def by_label(self) -> dict[str, UdirByLabel]:
        """The filters `select` names by label."""
        return {str(name): chosen for name, chosen in self.select.items() if isinstance(chosen, UdirByLabel)}

    def expected_labels(self) -> list[tuple[str, str, str]]:
        """(filter, code, expected label) for every labelled filter of `select` chosen by code."""
        return expected_labels({str(name): label for name, label in self.labels.items()}, self.by_code())


class UdirFetch(BaseModel):
    """How a Udir indicator is fetched. It stays importable: `monitor import` feeds it while the API fails."""

    model_config = _STRICT

    kind: Literal["udir"]
    series: dict[str, UdirSeries] = Field(min_length=1)
    value: Expr

    @model_validator(mode="after")
    def _known_series(self) -> UdirFetch:
        _check_series_use(self.value, set(self.series))
        return self
