"""The alert e-mails in bokmål: multipart/alternative with a plain-text and an HTML part, links to the UI. Pure."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from html import escape

from babel.dates import format_date

from monitor.alerts.episodes import KINDS, KIND_WORDS, AlertConfig, Digest, Notice
from monitor.alerts.startup import Startup

SENDER_NAME = "Indikatormonitoren"
SUBJECT_PREFIX = "Indikatormonitor"
SECTIONS = (
    ("opened", "Nye varsler"),
    ("reminder", "Påminnelse – fortsatt åpne"),
    ("resolved", "Løst"),
)
MAX_SUBJECT_TITLE = 90


def _day(moment: datetime, config: AlertConfig) -> str:
    """"20. juli 2026", in MONITOR_TIMEZONE."""
    return format_date(moment.astimezone(config.timezone).date(), format="d. MMMM y", locale="nb_NO")


def _stamp(moment: datetime, config: AlertConfig) -> str:
    """"20. juli 2026 kl. 08:00", in MONITOR_TIMEZONE."""
    local = moment.astimezone(config.timezone)
    return f"{_day(moment, config)} kl. {local:%H:%M}"


def link(config: AlertConfig, path: str) -> str:
    """An address in the UI."""
    return config.base_url.rstrip("/") + path


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def subject_line(digest: Digest) -> str:
    """One notice: what and which; several: how many of each event."""
    notices = digest.notices
    if len(notices) == 1:
        notice = notices[0]
        title = notice.about.title
        if len(title) > MAX_SUBJECT_TITLE:
            title = title[: MAX_SUBJECT_TITLE - 1].rstrip() + "…"
        what = KIND_WORDS[notice.about.kind]
        lead = {"opened": what.capitalize(), "reminder": f"Påminnelse: {what}", "resolved": f"Løst: {what}"}[notice.event]
        return f"{SUBJECT_PREFIX}: {lead} – {title}"
    counts = {event: sum(1 for n in notices if n.event == event) for event, _ in SECTIONS}
    parts = [
        text for text in (
            _count(counts["opened"], "nytt", "nye") if counts["opened"] else "",
            _count(counts["reminder"], "påminnelse", "påminnelser") if counts["reminder"] else "",
            f"{counts['resolved']} løst" if counts["resolved"] else "",
        ) if text
    ]
    return f"{SUBJECT_PREFIX}: {len(notices)} varsler ({', '.join(parts)})"


def _headers(message: EmailMessage, subject: str, sender: str, to: tuple[str, ...], cc: tuple[str, ...], now: datetime) -> None:
    message["Subject"] = subject
    message["From"] = formataddr((SENDER_NAME, sender))
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please


def render_digest(digest: Digest, config: AlertConfig, now: datetime) -> EmailMessage:
    """The e-mail of one digest (no Message-ID yet: the outbox gives it one and keeps it)."""
    message = EmailMessage()
    _headers(message, subject_line(digest), config.sender, digest.to, digest.cc, now)
    message.set_content(_text(digest, config, now), cte="quoted-printable")
    message.add_alternative(_html(digest, config, now), subtype="html", cte="quoted-printable")
    return message


def _sections(digest: Digest) -> list[tuple[str, list[Notice]]]:
    return [
        (heading, [n for n in digest.notices if n.event == event])
        for event, heading in SECTIONS
        if any(n.event == event for n in digest.notices)
    ]


def _since(notice: Notice, config: AlertConfig) -> str:
    if notice.event == "opened":
        return ""
    return f"åpnet {_day(notice.opened_at, config)}"


def _text(digest: Digest, config: AlertConfig, now: datetime) -> str:
    lines = ["Hei,", "", f"indikatormonitoren for Asker kommune har {_count(len(digest.notices), 'varsel', 'varsler')} til deg ({_stamp(now, config)}).", ""]
    for heading, notices in _sections(digest):
        title = f"{heading} ({len(notices)})"
        lines += [title, "-" * len(title)]
        for notice in notices:
            since = _since(notice, config)
            lines.append(f"* {KIND_WORDS[notice.about.kind].capitalize()}: {notice.about.title}" + (f" ({since})" if since else ""))
            if notice.figure:
                lines.append(f"  {notice.figure}")
            if notice.detail:
                lines.append(f"  {notice.detail}")
            lines.append(f"  {link(config, notice.about.path)}")
        lines.append("")
    lines += [*(f"Merk: {note}" for note in digest.notes), *([""] if digest.notes else [])]
    lines += [
        f"Alle kilder og siste hentinger: {link(config, '/kilder')}",
        "",
        f"Du får denne e-posten fordi {digest.reason}.",
        "Et åpent varsel gjentas etter " + _count(int(config.remind_after.days), "dag", "dager")
        + ", og du får beskjed når det er løst.",
        _silence_text(digest, config),
        "",
        "-- ",
        SENDER_NAME,
    ]
    return "\n".join(lines) + "\n"


def _for_ops(digest: Digest, config: AlertConfig) -> bool:
    return bool(config.ops) and digest.to == config.ops


def _ask_ops(config: AlertConfig) -> str:
    return ", ".join(config.ops) if config.ops else "driftsansvarlig for indikatormonitoren"


SILENCE_COMMAND = 'monitor silence add <indikator-id eller kilde> --until ÅÅÅÅ-MM-DD --reason "…"'


def _silence_text(digest: Digest, config: AlertConfig) -> str:
    """Ops silence with the command; an owner (no shell) asks ops, pointing at the indicator's page."""
    if _for_ops(digest, config):
        return f"Demp et varsel: {SILENCE_COMMAND}"
    return (f"Vil du dempe et varsel (for eksempel fordi tallene kommer senere)? Skriv til {_ask_ops(config)} med "
            "lenken til indikatoren over, hvor lenge og hvorfor, så demper driftsansvarlig det.")


def _html(digest: Digest, config: AlertConfig, now: datetime) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="nb"><head><meta charset="utf-8"><title>' + escape(subject_line(digest)) + "</title></head>",
        '<body style="font-family: sans-serif; line-height: 1.4">',
        "<p>Hei,</p>",
        f"<p>indikatormonitoren for Asker kommune har {_count(len(digest.notices), 'varsel', 'varsler')} til deg ({escape(_stamp(now, config))}).</p>",
    ]
    for heading, notices in _sections(digest):
        parts.append(f"<h2 style=\"font-size: 1.1em\">{escape(heading)} ({len(notices)})</h2>")
        parts.append("<ul>")
        for notice in notices:
            since = _since(notice, config)
            url = escape(link(config, notice.about.path), quote=True)
            parts.append(
                f"<li><strong>{escape(KIND_WORDS[notice.about.kind].capitalize())}:</strong> "
                f'<a href="{url}">{escape(notice.about.title)}</a>'
                + (f" <em>({escape(since)})</em>" if since else "")
                + (f"<br>{escape(notice.figure)}" if notice.figure else "")
                + (f"<br>{escape(notice.detail)}" if notice.detail else "")
                + "</li>"
            )
        parts.append("</ul>")
    parts += [f"<p><strong>Merk:</strong> {escape(note)}</p>" for note in digest.notes]
    kilder = escape(link(config, "/kilder"), quote=True)
    if _for_ops(digest, config):
        silence = f"Demp et varsel: <code>{escape(SILENCE_COMMAND)}</code>"
    else:
        silence = escape(_silence_text(digest, config))
    parts += [
        f'<p><a href="{kilder}">Alle kilder og siste hentinger</a></p>',
        f'<p style="color: #555; font-size: 0.9em">Du får denne e-posten fordi {escape(digest.reason)}. '
        f"Et åpent varsel gjentas etter {escape(_count(int(config.remind_after.days), 'dag', 'dager'))}, "
        f"og du får beskjed når det er løst. {silence}</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# -- the start-up summary ------------------------------------------------------------------------------


def _startup_counts(digest: Digest) -> list[tuple[str, int]]:
    """(label, count) lines: the open episodes by kind, and, after downtime, the new and the resolved ones."""
    open_now = [n for n in digest.notices if n.event != "resolved"]
    counts = [(KIND_WORDS[kind].capitalize(), sum(1 for n in open_now if n.about.kind == kind)) for kind in KINDS]
    return [(label, number) for label, number in counts if number]


def startup_subject(digest: Digest, startup: Startup) -> str:
    open_now = sum(1 for n in digest.notices if n.event != "resolved")
    lead = "varslene er i gang" if startup.kind == "first" else "varslene er i gang igjen"
    return f"{SUBJECT_PREFIX}: {lead} – {_count(open_now, 'åpent varsel', 'åpne varsler')}"


def _startup_lines(digest: Digest, config: AlertConfig, now: datetime, startup: Startup) -> list[str]:
    """The summary's sentences (shared by the text and HTML parts)."""
    open_now = [n for n in digest.notices if n.event != "resolved"]
    if startup.kind == "first":
        opening = (f"indikatormonitoren for Asker kommune sender nå e-postvarsler ({_stamp(now, config)}). "
                   "Dette er den første vurderingen, så i stedet for ett varsel per sak får du denne oppsummeringen "
                   "av hvordan det står nå.")
    else:
        since = f" siden {_stamp(startup.previous, config)}" if startup.previous else ""
        opening = (f"indikatormonitoren for Asker kommune har ikke vurdert indikatorene{since}, og er i gang igjen "
                   f"({_stamp(now, config)}). I stedet for ett varsel per sak som har endret seg i mellomtiden, får "
                   "du denne oppsummeringen av hvordan det står nå.")
    lines = [opening, f"Åpne varsler: {len(open_now)}."]
    if startup.kind == "resync":
        new = sum(1 for n in open_now if n.event == "opened")
        resolved = sum(1 for n in digest.notices if n.event == "resolved")
        lines.append(f"Herav nye siden sist: {new}. Løst i mellomtiden: {resolved}.")
    if startup.silenced:
        lines.append(f"Dempet (ikke med her): {startup.silenced}.")
    return lines


def render_startup(digest: Digest, config: AlertConfig, now: datetime, startup: Startup) -> EmailMessage:
    """One recipient's start-up summary: counts and links, no list of cases (no Message-ID yet)."""
    message = EmailMessage()
    _headers(message, startup_subject(digest, startup), config.sender, digest.to, (), now)
    lines = _startup_lines(digest, config, now, startup)
    counts = _startup_counts(digest)
    overview, kilder = link(config, "/"), link(config, "/kilder")
    after = ("Fra nå av får du e-post når noe nytt går galt, en påminnelse når et varsel har vært åpent i "
             f"{_count(int(config.remind_after.days), 'dag', 'dager')}, og beskjed når det er løst.")
    text = ["Hei,", "", *lines, ""]
    text += [f"  {label}: {number}" for label, number in counts] + ([""] if counts else [])
    text += [f"Oversikten: {overview}", f"Alle kilder og siste hentinger: {kilder}", ""]
    text += [*(f"Merk: {note}" for note in digest.notes), *([""] if digest.notes else [])]
    text += [after, "", f"Du får denne e-posten fordi {digest.reason}.", _silence_text(digest, config), "", "-- ",
             SENDER_NAME]
    html = [
        "<!DOCTYPE html>",
        '<html lang="nb"><head><meta charset="utf-8"><title>' + escape(startup_subject(digest, startup))
        + "</title></head>",
        '<body style="font-family: sans-serif; line-height: 1.4">',
        "<p>Hei,</p>",
        *(f"<p>{escape(line)}</p>" for line in lines),
    ]
    if counts:
        html += ["<ul>", *(f"<li>{escape(label)}: {number}</li>" for label, number in counts), "</ul>"]
    html += [
        f'<p><a href="{escape(overview, quote=True)}">Oversikten</a> · '
        f'<a href="{escape(kilder, quote=True)}">Alle kilder og siste hentinger</a></p>',
        *(f"<p><strong>Merk:</strong> {escape(note)}</p>" for note in digest.notes),
        f"<p>{escape(after)}</p>",
        f'<p style="color: #555; font-size: 0.9em">Du får denne e-posten fordi {escape(digest.reason)}. '
        + (f"Demp et varsel: <code>{escape(SILENCE_COMMAND)}</code>" if _for_ops(digest, config)
           else escape(_silence_text(digest, config))) + "</p>",
        "</body></html>",
    ]
    message.set_content("\n".join(text) + "\n", cte="quoted-printable")
    message.add_alternative("\n".join(html) + "\n", subtype="html", cte="quoted-printable")
    return message


def render_test(config: AlertConfig, to: tuple[str, ...], server: str, now: datetime) -> EmailMessage:
    """`monitor alerts test`: proves that mail from the monitor reaches ops."""
    message = EmailMessage()
    _headers(message, f"{SUBJECT_PREFIX}: testvarsel", config.sender, to, (), now)
    overview = link(config, "/")
    text = (
        "Hei,\n\ndette er en test av e-postvarslene fra indikatormonitoren for Asker kommune, "
        f"sendt {_stamp(now, config)} via {server}.\n\n"
        "Kommer denne fram, er innstillingene for e-post i orden.\n\n"
        f"Oversikten: {overview}\n\n-- \n{SENDER_NAME}\n"
    )
    html = (
        '<!DOCTYPE html>\n<html lang="nb"><head><meta charset="utf-8"><title>Testvarsel</title></head>'
        '<body style="font-family: sans-serif">'
        "<p>Hei,</p><p>dette er en test av e-postvarslene fra indikatormonitoren for Asker kommune, "
        f"sendt {escape(_stamp(now, config))} via {escape(server)}.</p>"
        "<p>Kommer denne fram, er innstillingene for e-post i orden.</p>"
        f'<p><a href="{escape(overview, quote=True)}">Oversikten</a></p></body></html>\n'
    )
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message
