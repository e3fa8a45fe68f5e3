"""Issue 17, alerts that do not flood: the start-up summary on day one and after downtime, unconfirmed source
owners routed to ops, units and Norwegian timestamps in the e-mails, and a quiet Ctrl-C on `monitor run`.

E-mail goes to a real SMTP server in the process (aiosmtpd on 127.0.0.1); the catalogue is the small fixture
tests/fixtures/catalogue/first_day.yaml (indicators and owners copied from indicators.yaml)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner

from support.auth_helpers import logged_in, make_app
from support.catalogues import baseline_for
from support.paths import FIXTURES, REPO
from support.smtp_server import Received, SmtpServer, free_port
from support.waiting import ProcessOutput
from monitor.alerts.startup import arm_startup_summary
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.cli.alerts import run_alerts
from monitor.cli.main import cli
from monitor.core.model import RunRecord
from monitor.core.settings import Settings
from monitor.seed.baseline import load_baseline
from monitor.store.database import Store

# aiosmtpd 1.4 warns on every successful AUTH (its own deprecated attribute), in the server's thread.
pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
OSLO = ZoneInfo("Europe/Oslo")
FIRST_DAY = FIXTURES / "catalogue" / "first_day.yaml"
OPS = "drift@asker.test"
STATISTIKK, HR, FOLKEHELSE = "statistikk@asker.kommune.no", "hr@asker.kommune.no", "folkehelse@asker.kommune.no"
BASE_URL = "https://indikatorer.asker.test"
# The fixture baseline ends in 2022: on this day sykefravaer, avfall_byggeprosjekter (Asker kommune),
# medarbeiderskap_lederskap (KS) and netto_driftsresultat are late (Ungdata's fritidstilbud_ungdom is between
# waves), and netto_driftsresultat (-0,7 % in 2022, desired > 3 %) is off target.
DAY_ONE = datetime(2026, 12, 4, 9, 0, tzinfo=OSLO)


def confirmed(tmp_path: Path, *sources: str) -> Path:
    """first_day.yaml with the owners of `sources` confirmed (as the kommune will do), the rest as shipped."""
    lines = FIRST_DAY.read_text(encoding="utf-8").splitlines(keepends=True)
    for source in sources:
        [index] = [i for i, line in enumerate(lines) if line.startswith(f'  - {{name: "{source}", owner:')]
        lines[index] = lines[index].replace("confirmed: false", "confirmed: true")
    path = tmp_path / "first_day.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


def settings_for(tmp_path: Path, port: int, catalogue: Path = FIRST_DAY, **extra: object) -> Settings:
    values: dict[str, object] = {
        "db": tmp_path / "monitor.db", "catalogue": catalogue, "smtp_host": "127.0.0.1", "smtp_port": port,
        "alert_to": OPS, "base_url": BASE_URL, "smtp_timeout": 5.0,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def installed(tmp_path: Path, catalogue: Catalogue) -> Store:
    """What `monitor init` leaves: the schema, the start-up summary armed, the printed baseline."""
    store = Store(tmp_path / "monitor.db")
    store.migrate()
    assert arm_startup_summary(store)
    load_baseline(store, catalogue, DAY_ONE - timedelta(days=1), baseline_for(catalogue, tmp_path))
    return store


def plain(received: Received) -> str:
    body = received.message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return body.get_content()


def html(received: Received) -> str:
    body = received.message.get_body(("html",))
    assert isinstance(body, EmailMessage)
    return body.get_content()


def by_recipient(server: SmtpServer) -> dict[str, Received]:
    found: dict[str, Received] = {}
    for received in server.received:
        assert len(received.rcpt_tos) == 1, received.rcpt_tos  # nobody in Cc: one e-mail per person
        assert received.rcpt_tos[0] not in found, received.rcpt_tos
        found[received.rcpt_tos[0]] = received
    return found


# -- 9. day one: one summary per recipient ------------------------------------------------------------


def test_fresh_install_first_send_sends_one_summary_per_recipient(tmp_path: Path, server: SmtpServer) -> None:
    catalogue_path = confirmed(tmp_path, "Asker kommune")
    catalogue = load_catalogue(catalogue_path)
    env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(catalogue_path),
           "MONITOR_BASELINE": str(baseline_for(catalogue, tmp_path)), "MONITOR_SMTP_HOST": "127.0.0.1",
           "MONITOR_SMTP_PORT": str(server.port), "MONITOR_ALERT_TO": OPS, "MONITOR_BASE_URL": BASE_URL}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    first = runner.invoke(cli, ["alerts", "send"], env=env)
    assert first.exit_code == 0, first.output
    assert "første vurdering: én oppsummering per mottaker" in first.stdout
    mails = by_recipient(server)
    assert set(mails) == {OPS, STATISTIKK}  # the KS and Ungdata owners are not confirmed: nothing to them
    with Store(tmp_path / "x.db") as store:
        episodes = store.conn.execute("SELECT kind, subject, last_notified_at FROM alert_episodes").fetchall()
    late = {subject for kind, subject, _ in episodes if kind == "late"}
    assert {"sykefravaer", "medarbeiderskap_lederskap", "avfall_byggeprosjekter"} <= late  # (the CLI's clock is real)
    assert all(notified is not None for _, _, notified in episodes)  # recorded as known: no flood tomorrow
    ops = plain(mails[OPS])
    assert mails[OPS].message["Subject"] == f"Indikatormonitor: varslene er i gang – {len(episodes)} åpne varsler"
    assert f"Åpne varsler: {len(episodes)}." in ops and f"Oversikten: {BASE_URL}/" in ops
    assert f"{BASE_URL}/kilder" in ops
    assert f"  Forsinket: {len(late)}" in ops and "  Målet er ikke nådd: " in ops
    assert "Kilden «Medarbeiderundersøkelsen, KS» har eieren hr@asker.kommune.no" in ops  # why ops has it
    assert "Sykefraværsprosent" not in ops  # counts, not one line per episode
    owner = plain(mails[STATISTIKK])
    asker_late = sum(1 for i in catalogue.indicators if i.source.name == "Asker kommune" and i.id in late)
    assert f"Åpne varsler: {asker_late}." in owner and f"  Forsinket: {asker_late}" in owner
    assert "kilden «Asker kommune»" in owner and "monitor silence" not in owner
    assert mails[STATISTIKK].message["Subject"] == f"Indikatormonitor: varslene er i gang – {asker_late} åpne varsler"
    assert f'href="{BASE_URL}/"' in html(mails[OPS])
    # From now on: per episode; a second run has nothing to say.
    second = runner.invoke(cli, ["alerts", "send"], env=env)
    assert second.exit_code == 0 and "0 e-post(er) lagt i kø" in second.stdout and "første" not in second.stdout
    assert len(server.received) == 2


def test_after_the_summary_alerts_go_per_episode_and_downtime_resyncs(tmp_path: Path, server: SmtpServer) -> None:
    catalogue = load_catalogue(FIRST_DAY)
    settings = settings_for(tmp_path, server.port, alert_resync_after_days=3)
    with installed(tmp_path, catalogue) as store:
        first = run_alerts(settings, catalogue, store, DAY_ONE)
        assert first.recorded.startup == "first" and len(server.received) == 1  # every owner unconfirmed: ops only
        failed = DAY_ONE + timedelta(hours=1)
        store.record_failure(RunRecord("ssb", "12143", failed, failed), "HTTP 503")
        run_alerts(settings, catalogue, store, DAY_ONE + timedelta(hours=2))
        assert len(server.received) == 2
        one = server.received[1]
        assert one.message["Subject"] == "Indikatormonitor: Innhenting feiler – SSB-tabell 12143"
        assert "Siste forsøk 04.12.2026 kl. 10:00 feilet: HTTP 503." in plain(one)  # Norwegian, MONITOR_TIMEZONE
        # Two days later (within MONITOR_ALERT_RESYNC_AFTER_DAYS=3): an ordinary run, nothing due.
        quiet = run_alerts(settings, catalogue, store, DAY_ONE + timedelta(days=2))
        assert quiet.recorded.startup is None and len(server.received) == 2
        # Then five days down: the fetch works again meanwhile, and the next run summarises instead of
        # sending the "Løst" and every reminder one by one.
        fixed = DAY_ONE + timedelta(days=6)
        store.write_run(RunRecord("ssb", "12143", fixed, fixed), [])
        back = DAY_ONE + timedelta(days=7)
        resync = run_alerts(settings, catalogue, store, back)
        assert resync.recorded.startup == "resync" and resync.recorded.resolved == 1
        assert len(server.received) == 3
        summary = server.received[2]
        text = plain(summary)
        assert summary.message["Subject"].startswith("Indikatormonitor: varslene er i gang igjen – ")
        assert "har ikke vurdert indikatorene siden 6. desember 2026 kl. 09:00" in text
        assert "Herav nye siden sist: 0. Løst i mellomtiden: 1." in text
        # And per episode again after that: a reminder falls due a week after the summary, not before.
        for days in (2, 4, 6):  # daily runs, well within MONITOR_ALERT_RESYNC_AFTER_DAYS
            assert run_alerts(settings, catalogue, store, back + timedelta(days=days)).recorded.outbox_ids == []
        reminder = run_alerts(settings, catalogue, store, back + timedelta(days=7))
        assert reminder.recorded.startup is None and reminder.recorded.notices >= 1
        assert server.received[-1].message["Subject"] == f"Indikatormonitor: {reminder.recorded.notices} varsler ({reminder.recorded.notices} påminnelser)"


def test_a_database_alerts_already_ran_on_is_not_re_armed(tmp_path: Path, server: SmtpServer) -> None:
    catalogue = load_catalogue(FIRST_DAY)
    with installed(tmp_path, catalogue) as store:
        run_alerts(settings_for(tmp_path, server.port), catalogue, store, DAY_ONE)
        assert not arm_startup_summary(store)  # `monitor init` again after an upgrade
        again = run_alerts(settings_for(tmp_path, server.port), catalogue, store, DAY_ONE + timedelta(hours=1))
        assert again.recorded.startup is None and len(server.received) == 1


# -- 10. owners that are not confirmed ----------------------------------------------------------------


def test_the_shipped_owners_are_marked_unconfirmed_explicitly() -> None:
    entries = yaml.safe_load((REPO / "indicators.yaml").read_text(encoding="utf-8"))["sources"]
    assert entries and all("confirmed" in entry for entry in entries), entries  # stated, not left to the default
    catalogue = load_catalogue(REPO / "indicators.yaml")
    assert [(e.name, e.owner) for e in catalogue.unconfirmed_owners] == [
        ("Asker kommune", STATISTIKK), ("Medarbeiderundersøkelsen, KS", HR), ("Ungdata", FOLKEHELSE)]


def test_an_unconfirmed_owner_gets_nothing_and_ops_get_it_with_a_note(tmp_path: Path, server: SmtpServer) -> None:
    catalogue = load_catalogue(FIRST_DAY)
    with Store(tmp_path / "monitor.db") as store:  # not armed: the alerts are per episode from the start
        store.migrate()
        load_baseline(store, catalogue, DAY_ONE - timedelta(days=1), baseline_for(catalogue, tmp_path))
        run_alerts(settings_for(tmp_path, server.port), catalogue, store, DAY_ONE)
    mails = by_recipient(server)
    assert set(mails) == {OPS}
    text = plain(mails[OPS])
    assert "Sykefraværsprosent" in text and "godt medarbeiderskap" in text  # owners' alerts, here
    assert "Ungdata" not in text  # nothing of Ungdata's is open: no note about its owner either
    for source, owner in (("Asker kommune", STATISTIKK), ("Medarbeiderundersøkelsen, KS", HR)):
        assert f"Merk: Kilden «{source}» har eieren {owner} i katalogen, men adressen er ikke bekreftet" in text
        assert f"Kilden «{source}» har eieren {owner}" in html(mails[OPS])


def test_alerts_test_lists_unconfirmed_owners_and_every_missing_setting(tmp_path: Path, server: SmtpServer) -> None:
    env = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(FIRST_DAY)}
    bare = CliRunner().invoke(cli, ["alerts", "test"], env={**env, "MONITOR_SMTP_USER": "monitor"})
    assert bare.exit_code == 1
    for setting in ("MONITOR_SMTP_HOST", "MONITOR_ALERT_TO", "MONITOR_SMTP_FROM", "MONITOR_SMTP_PASSWORD"):
        assert setting in bare.stderr, bare.stderr  # all at once, not one per run
    assert "4 innstilling(er) for e-postvarsler mangler eller er feil" in bare.stderr
    for owner in (STATISTIKK, HR, FOLKEHELSE):
        assert owner in bare.stdout
    assert "Ikke bekreftede kildeeiere (3;" in bare.stdout and "MONITOR_BASE_URL er ikke satt" in bare.stdout
    good = CliRunner().invoke(cli, ["alerts", "test"], env={
        **env, "MONITOR_SMTP_HOST": "127.0.0.1", "MONITOR_SMTP_PORT": str(server.port), "MONITOR_ALERT_TO": OPS,
        "MONITOR_BASE_URL": BASE_URL})
    assert good.exit_code == 0, good.output
    assert "  Ungdata: folkehelse@asker.kommune.no" in good.stdout and "MONITOR_BASE_URL" not in good.stdout
    assert [r.rcpt_tos for r in server.received] == [[OPS]]


def test_the_sources_page_lists_the_unconfirmed_owners(tmp_path: Path) -> None:
    app = make_app(tmp_path, catalogue=FIRST_DAY)
    page = app.test_client().get("/kilder").get_data(as_text=True)
    section = page.split('id="owners-title"', 1)[1].split("</section>", 1)[0]
    for source in ("Asker kommune", "Medarbeiderundersøkelsen, KS", "Ungdata"):
        assert f"<li>{source}</li>" in section
    assert "@" not in section  # the addresses only for editors
    editor = logged_in(app, "erik").get("/kilder").get_data(as_text=True)
    assert f"<li>Ungdata: {FOLKEHELSE}</li>" in editor
    assert "<script" not in section and "style=" not in section
    everyone = make_app(tmp_path / "confirmed", catalogue=confirmed(tmp_path, "Asker kommune", "Ungdata",
                                                                    "Medarbeiderundersøkelsen, KS"))
    assert 'id="owners-title"' not in everyone.test_client().get("/kilder").get_data(as_text=True)


# -- 11. units, Norwegian timestamps, silencing without a shell ---------------------------------------


def test_alert_emails_show_units_and_owners_are_told_how_to_silence(tmp_path: Path, server: SmtpServer) -> None:
    catalogue_path = confirmed(tmp_path, "Asker kommune", "Medarbeiderundersøkelsen, KS")
    catalogue = load_catalogue(catalogue_path)
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        load_baseline(store, catalogue, DAY_ONE - timedelta(days=1), baseline_for(catalogue, tmp_path))
        run_alerts(settings_for(tmp_path, server.port, catalogue_path), catalogue, store, DAY_ONE)
    mails = {received.message["To"]: received for received in server.received}
    asker, ks, ops = plain(mails[STATISTIKK]), plain(mails[HR]), plain(mails[OPS])
    assert "Siste tall (2022): 9,3\u00a0%" in asker  # sykefravaer: symbol, decimal comma
    assert "Siste tall (2022): 48,3\u00a0kg/m2" in asker  # avfall_byggeprosjekter
    assert "Siste tall (2021): 4,2 på skala 1–5" in ks  # no symbol: the scale says what the number is
    assert "Siste tall (2022): \u22120,7\u00a0%; mål: Ønsket > 3 %" in ops  # typographic minus, the target
    for owner in (asker, ks):
        assert "monitor silence" not in owner
        assert f"Skriv til {OPS} med lenken til indikatoren over" in owner
    assert f"{BASE_URL}/indikator/sykefravaer" in asker
    assert 'Demp et varsel: monitor silence add' in ops  # ops have the shell
    assert "monitor silence" not in html(mails[HR]) and f"{BASE_URL}/indikator/medarbeiderskap_lederskap" in html(mails[HR])


# -- 12. Ctrl-C on `make run` --------------------------------------------------------------------------


def test_ctrl_c_on_monitor_run_prints_one_line_and_exits_0(tmp_path: Path) -> None:
    script = str(Path(sys.executable).parent / "monitor")
    catalogue = load_catalogue(FIRST_DAY)
    env = {**os.environ, "MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(FIRST_DAY),
           "MONITOR_BASELINE": str(baseline_for(catalogue, tmp_path)),
           "MONITOR_RAW_DIR": str(tmp_path / "raw"), "MONITOR_SSB_URL": "http://127.0.0.1:9",
           "MONITOR_FHI_URL": "http://127.0.0.1:9", "MONITOR_UDIR_URL": "http://127.0.0.1:9"}
    subprocess.run([script, "init"], env=env, check=True, capture_output=True, timeout=60)
    process = subprocess.Popen([script, "run", "--port", str(free_port())], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)  # its own process group
    output = ProcessOutput(process)
    try:
        assert output.wait_for("Nettsidene svarer på", timeout=60), output.text
        assert output.wait_for("Planleggeren kjører mot", timeout=60), output.text  # the child's handlers are set
        started = len(output.lines)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal of `make run` does
        text = output.finish(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.stderr is not None
    errors = process.stderr.read()
    process.stderr.close()
    after = text.splitlines()[started:]
    assert process.returncode == 0, (text, errors)
    assert after == ["Tjenesten er stoppet."], (text, errors)
    for said in (text, errors):
        assert "Traceback" not in said and "Feil" not in said and "Aborted" not in said, said
    assert "Planleggeren er stoppet." in errors  # the child released its lock, and said so in the log
