"""What is wrong now, as alert conditions: each subject described from the catalogue, and the conditions one
evaluation of the whole catalogue shows (monitor.alerts.episodes turns them into episodes and notices).

Kinds of condition (subject in brackets):
- fetch_failing [the source table, e.g. "ssb:12143", or "ssb-kostra:12255" for a table of the KOSTRA peer
  comparison in kostra.yaml]: the newest fetch of the table failed; [source, table and indicator, e.g.
  "ssb:12209:arsverk_fagutdanning_helse"]: the table answered but lacks that indicator's code or label;
- late [indicator id]: the evaluation's state is `late` (not `due`, `pending` or waiting for a survey wave);
- off_target [indicator id]: the target status is `not_met`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from monitor.alerts.figures import figure, local_stamp
from monitor.catalogue.indicators import Catalogue, Indicator
from monitor.catalogue.kostra import KOSTRA_SOURCE
from monitor.core import timestamps
from monitor.evaluate.indicator import Evaluation, State, TargetStatus, short_label
from monitor.sources.registry import SOURCES
from monitor.sources.registry import label as source_label
from monitor.store.database import Store

OSLO = ZoneInfo("Europe/Oslo")


@dataclass(frozen=True)
class Subject:
    """What an episode is about, described from the catalogue: title, UI path, owner's source and aliases."""

    kind: str
    subject: str
    title: str
    path: str  # in the UI: /indikator/<id> or /kilder
    source_name: str | None  # the Kilde text whose owner hears about late data
    aliases: frozenset[str]  # the names a silence may use for it

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)


@dataclass(frozen=True)
class Condition:
    """Something wrong now."""

    about: Subject
    detail: str
    figure: str = ""  # the latest value with its unit, and the target, in Norwegian format ("6,1 %; mål: under 7 %")


@dataclass(frozen=True)
class Findings:
    """The conditions of one evaluation, the keys it cannot judge, and what to say when an episode ends."""

    conditions: list[Condition]
    unknown: frozenset[tuple[str, str]]  # neither open nor resolved now (late while the fetch fails)
    resolved_details: Mapping[str, str]  # subject → a sentence on how things stand now
    figures: Mapping[str, str] = field(default_factory=dict)  # indicator id → its figure (see Condition)


def fetch_tables(indicator: Indicator) -> list[tuple[str, str]]:
    """(source, table) pairs an indicator is fetched from, as the run log names them."""
    if indicator.fetch is None:
        return []
    return [(indicator.fetch.kind, table) for table in sorted({s.table for s in indicator.fetch.series.values()})]


def _table_users(catalogue: Catalogue) -> dict[str, list[Indicator]]:
    users: dict[str, list[Indicator]] = {}
    for indicator in catalogue.indicators:
        for source, table in fetch_tables(indicator):
            users.setdefault(f"{source}:{table}", []).append(indicator)
    return users


def describe(catalogue: Catalogue, kind: str, subject: str) -> Subject:
    """An episode's subject as the catalogue knows it now (a removed indicator is still described)."""
    if kind == "fetch_failing":
        source, _, target = subject.partition(":")
        table, _, refused_id = target.partition(":")  # "<source>:<table>:<indicator>": refused by its table alone
        users = _table_users(catalogue).get(f"{source}:{table}", [])
        aliases = {subject, source, f"{source}:{table}"} | {indicator.source.name for indicator in users}
        label = source_label(source)
        path = SOURCES[source].page if source in SOURCES else "/kilder"
        title = f"{label}-tabell {table}"
        if refused_id:
            refused = catalogue.by_id.get(refused_id)
            aliases.add(refused_id)
            title += f" for {short_label(refused) if refused is not None else refused_id}"
            path = f"/indikator/{refused_id}"
        return Subject(kind, subject, title, path, None, frozenset(aliases))
    indicator = catalogue.by_id.get(subject)
    if indicator is None:
        return Subject(kind, subject, subject, f"/indikator/{subject}", None, frozenset({subject}))
    aliases = {indicator.id, indicator.source.name}
    for source, table in fetch_tables(indicator):
        aliases |= {source, f"{source}:{table}"}
    return Subject(kind, subject, short_label(indicator), f"/indikator/{indicator.id}", indicator.source.name,
                   frozenset(aliases))


def find_conditions(
    catalogue: Catalogue, store: Store, evaluations: Iterable[Evaluation], zone: ZoneInfo = OSLO,
    kostra_tables: Mapping[str, int] | None = None,
) -> Findings:
    """The conditions one evaluation of the whole catalogue shows, and the failing KOSTRA tables (table → rows)."""
    conditions: list[Condition] = []
    unknown: set[tuple[str, str]] = set()
    resolved: dict[str, str] = {}
    figures: dict[str, str] = {}
    failing_tables: dict[str, list[str]] = {}
    by_id = catalogue.by_id
    for evaluation in evaluations:
        indicator = by_id.get(evaluation.id)
        if indicator is None:
            continue
        resolved[indicator.id] = evaluation.explanation
        figures[indicator.id] = figure(indicator, evaluation)
        for source, table in fetch_tables(indicator):
            resolved[f"{source}:{table}:{indicator.id}"] = "Tabellen gir igjen verdien indikatoren trenger."
        if evaluation.state is State.FETCH_FAILING:
            unknown.add(("late", indicator.id))  # judged again once the fetch works
            for source, table in fetch_tables(indicator):
                failing_tables.setdefault(f"{source}:{table}", []).append(short_label(indicator))
                refusal = store.refusal(source, table, indicator.id)
                if refusal is not None:  # the table answered, but lacks this indicator's code or label
                    subject = f"{source}:{table}:{indicator.id}"
                    detail = f"Tabellen svarer, men mangler det indikatoren trenger: {refusal[0]}. Gjelder: {short_label(indicator)}."
                    conditions.append(Condition(describe(catalogue, "fetch_failing", subject), detail))
        elif evaluation.state is State.LATE:
            conditions.append(Condition(describe(catalogue, "late", indicator.id), evaluation.explanation,
                                        figures[indicator.id]))
        if evaluation.target_status is TargetStatus.NOT_MET:
            conditions.append(Condition(describe(catalogue, "off_target", indicator.id), evaluation.explanation,
                                        figures[indicator.id]))
    for subject in _table_users(catalogue):
        resolved[subject] = "Siste henting av tabellen lyktes."
    for subject, names in failing_tables.items():
        source, _, table = subject.partition(":")
        run = store.last_run(source, table, ("ok", "unchanged", "failed"))
        if run is None or run["outcome"] != "failed":
            continue
        shown = ", ".join(names[:5]) + (f" og {len(names) - 5} til" if len(names) > 5 else "")
        when = local_stamp(timestamps.decode(run["finished_at"]), zone)
        detail = f"Siste forsøk {when} feilet: {run['error'] or 'ukjent feil'}. Gjelder: {shown}."
        conditions.append(Condition(describe(catalogue, "fetch_failing", subject), detail))
    for table, rows in sorted((kostra_tables or {}).items()):
        subject = f"{KOSTRA_SOURCE}:{table}"
        resolved[subject] = "Siste henting av tabellen lyktes."
        run = store.last_run(KOSTRA_SOURCE, table, ("ok", "unchanged", "failed"))
        if run is None or run["outcome"] != "failed":
            continue
        when = local_stamp(timestamps.decode(run["finished_at"]), zone)
        detail = (f"Siste forsøk {when} feilet: {run['error'] or 'ukjent feil'}. "
                  f"Gjelder {rows} {'rad' if rows == 1 else 'rader'} i KOSTRA-sammenligningen.")
        conditions.append(Condition(describe(catalogue, "fetch_failing", subject), detail))
    return Findings(conditions, frozenset(unknown), resolved, figures)
