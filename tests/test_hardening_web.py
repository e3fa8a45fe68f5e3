"""Issue 16, web: sessions that end on the server, an atomic login limit, no login names for anonymous readers,
security headers, trusted proxies and a single charset. The acceptance checks run from outside against
`monitor serve` in a subprocess on a loopback port; the rest use the Flask test client with the clock injected.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from support.auth_helpers import NOW, PASSWORDS, ROLES, SECRET_KEY, csrf_token, logged_in, login, make_app, read_rules
from support.paths import FIXTURES
from support.waiting import wait_until
from monitor.cli.main import cli
from monitor.core.model import Observation, RunRecord
from monitor.store.database import Store
from monitor.store.fetchrequests import request_fetch
from monitor.store.users import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER, Users
from web.auth import LOCKED_OUT, LOGIN_FAILED

IMPORTER = "kari.importoer"  # a login name that appears nowhere else
IMPORTER_PASSWORD = "importoerens-passord-314"
REQUESTER = "anne"  # the admin who asks for a fetch
NOSNIFF = "nosniff"
COOKIE = "session"


def db_path(app: Flask) -> Path:
    return Path(app.config["MONITOR_SETTINGS"].db)


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


def copied_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another client holding a copy of `client`'s session cookie (as someone who copied it would)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def seed_importer(db: Path) -> None:
    """An editor who imported a file, and an admin's fetch request: the login names anonymous readers must not see."""
    with Store(db) as store:
        Users(store).add(IMPORTER, IMPORTER_PASSWORD, "editor", NOW)
        run = RunRecord("import", "tall.csv", NOW, NOW, actor=IMPORTER, file_name="tall.csv")
        store.write_run(run, [Observation("sykefravaer", "3203", "2023", 8.4, None, "import")])
        request_fetch(store, "ssb", REQUESTER, NOW)


# -- 1. sessions end on the server ---------------------------------------------------------------------


def test_a_cookie_copied_before_logout_no_longer_opens_import(app: Flask) -> None:
    client = logged_in(app, "erik")
    thief = copied_cookie(app, client)
    assert thief.get("/import").status_code == 200  # the copy works while the session lives
    assert client.post("/logg-ut", data={"csrf_token": csrf_token(client, "/import")}).status_code == 302
    response = thief.get("/import")
    assert response.status_code == 302 and response.headers["Location"].startswith("/logg-inn")
    assert logged_in(app, "erik").get("/import").status_code == 200  # logging in again works


def test_an_old_admin_cookie_cannot_ask_for_a_fetch_after_logout(app: Flask) -> None:
    admin = logged_in(app, "anne")
    token = csrf_token(admin, "/kilder")
    thief = copied_cookie(app, admin)
    assert admin.post("/logg-ut", data={"csrf_token": csrf_token(admin, "/kilder")}).status_code == 302
    response = thief.post("/kilder/ssb/hent", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/logg-inn")
    with Store(db_path(app)) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM fetch_requests").fetchone()[0] == 0


def test_a_new_password_ends_every_session(app: Flask) -> None:
    first, second = logged_in(app, "erik"), logged_in(app, "erik")
    with Store(db_path(app)) as store:
        Users(store).set_password("erik", "et-helt-nytt-passord-1")
    assert first.get("/import").status_code == 302 and second.get("/import").status_code == 302
    assert login(app.test_client(), "erik").status_code == 200  # the old password is wrong now
    assert login(app.test_client(), "erik", "et-helt-nytt-passord-1").status_code == 302


def test_the_password_command_sets_a_new_password_and_ends_sessions(app: Flask) -> None:
    client = logged_in(app, "erik")
    env = {"MONITOR_DB": str(db_path(app))}
    result = CliRunner().invoke(cli, ["user", "password", "erik", "--password-stdin"], input="kort\n", env=env)
    assert result.exit_code != 0 and "minst 10 tegn" in result.output
    assert client.get("/import").status_code == 200  # a refused password changes nothing
    result = CliRunner().invoke(cli, ["user", "password", "erik", "--password-stdin"],
                                input="et-helt-nytt-passord-2\n", env=env)
    assert result.exit_code == 0, result.output
    assert "et-helt-nytt-passord-2" not in result.output
    assert client.get("/import").status_code == 302
    assert login(app.test_client(), "erik", "et-helt-nytt-passord-2").status_code == 302


def test_logging_out_leaves_other_users_logged_in(app: Flask) -> None:
    erik, anne = logged_in(app, "erik"), logged_in(app, "anne")
    erik.post("/logg-ut", data={"csrf_token": csrf_token(erik, "/import")})
    assert anne.get("/import").status_code == 200


def test_a_session_ends_after_the_idle_time(app: Flask) -> None:
    client = logged_in(app, "erik")
    for minutes in (29, 58, 87):  # each request within 30 minutes of the one before keeps it alive
        app.config["MONITOR_NOW"] = NOW + timedelta(minutes=minutes)
        assert client.get("/import").status_code == 200, minutes
    app.config["MONITOR_NOW"] = NOW + timedelta(minutes=87 + 31)
    assert client.get("/import").status_code == 302
    app.config["MONITOR_NOW"] = NOW + timedelta(minutes=87 + 32)
    assert client.get("/import").status_code == 302  # ended, not merely refused once


def test_a_session_ends_after_its_absolute_lifetime_however_active(app: Flask) -> None:
    client = logged_in(app, "erik")
    minutes = 0
    while minutes + 20 <= 12 * 60:
        minutes += 20
        app.config["MONITOR_NOW"] = NOW + timedelta(minutes=minutes)
        assert client.get("/import").status_code == 200, minutes
    app.config["MONITOR_NOW"] = NOW + timedelta(hours=12, minutes=1)
    assert client.get("/import").status_code == 302


def test_idle_and_lifetime_are_settings(tmp_path: Path) -> None:
    app = make_app(tmp_path, session_idle_minutes=5, session_max_hours=0.5)
    client = logged_in(app, "erik")
    app.config["MONITOR_NOW"] = NOW + timedelta(minutes=6)
    assert client.get("/import").status_code == 302
    client = logged_in(app, "erik")  # logged in at NOW + 6 min
    for minutes in (10, 14, 18, 22, 26, 30, 34):
        app.config["MONITOR_NOW"] = NOW + timedelta(minutes=minutes)
        assert client.get("/import").status_code == 200, minutes
    app.config["MONITOR_NOW"] = NOW + timedelta(minutes=37)
    assert client.get("/import").status_code == 302
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=0.5)  # the cookie's own expiry agrees


# -- 2. the login limit is atomic ------------------------------------------------------------------------


def test_parallel_wrong_passwords_on_the_flask_app_check_at_most_the_limit(app: Flask) -> None:
    clients = [app.test_client() for _ in range(30)]
    tokens = [csrf_token(client) for client in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(client: FlaskClient, token: str) -> None:
        start.wait()
        response = client.post("/logg-inn", data={"brukernavn": "erik", "passord": "feil-passord", "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200] * MAX_FAILURES_PER_USER + [429] * (30 - MAX_FAILURES_PER_USER)
    with Store(db_path(app)) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM login_attempts").fetchone()[0] == MAX_FAILURES_PER_USER


def test_a_refused_attempt_is_recorded_before_the_check_and_a_success_is_marked(app: Flask) -> None:
    with Store(db_path(app)) as store:
        users = Users(store)
        attempt = users.begin_attempt("erik", "10.0.0.1", NOW)
        assert attempt is not None
        assert store.conn.execute("SELECT succeeded FROM login_attempts").fetchall() == [(0,)]  # a failure until told
        users.attempt_succeeded(attempt)
        assert store.conn.execute("SELECT succeeded FROM login_attempts").fetchall() == [(1,)]
        for _ in range(MAX_FAILURES_PER_USER):
            assert users.begin_attempt("erik", "10.0.0.1", NOW) is not None
        assert users.begin_attempt("erik", "10.0.0.1", NOW) is None
        assert store.conn.execute("SELECT COUNT(*) FROM login_attempts").fetchone()[0] == MAX_FAILURES_PER_USER + 1


# -- 3. nobody can lock someone else out; anonymous readers see no login names ----------------------------


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base = {"REMOTE_ADDR": address}
    return client


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere(app: Flask) -> None:
    for _ in range(MAX_FAILURES_PER_USER):
        assert LOGIN_FAILED in login(from_address(app, "198.51.100.66"), "erik", "feil-passord").get_data(as_text=True)
    blocked = login(from_address(app, "198.51.100.66"), "erik")  # the guesser's address is blocked for erik
    assert blocked.status_code == 429 and LOCKED_OUT in blocked.get_data(as_text=True)
    assert login(from_address(app, "198.51.100.66"), "anne").status_code == 302  # … for erik only
    assert login(from_address(app, "10.0.0.7"), "erik").status_code == 302  # the owner, from her own address


def test_guesses_spread_over_accounts_still_hit_the_address_limit(app: Flask) -> None:
    for number in range(MAX_FAILURES_PER_ADDRESS):
        login(from_address(app, "198.51.100.67"), "erik" if number == 0 else f"ukjent{number}", "feil-passord")
    assert login(from_address(app, "198.51.100.67"), "lise").status_code == 429
    assert login(from_address(app, "10.0.0.8"), "lise").status_code == 302


def test_anonymous_readers_see_no_login_names(app: Flask) -> None:
    seed_importer(db_path(app))
    anonymous = app.test_client()
    for path in ("/indikator/sykefravaer", "/kilder", "/api/indicators/sykefravaer", "/api/indicators", "/"):
        response = anonymous.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert IMPORTER not in text and f">{REQUESTER}" not in text and f" {REQUESTER} " not in text, path
    assert "en redaktør" in anonymous.get("/indikator/sykefravaer").get_data(as_text=True)
    sources = anonymous.get("/kilder").get_data(as_text=True)
    assert "en redaktør" in sources and "av en administrator" in sources
    history = anonymous.get("/api/indicators/sykefravaer").get_json()["fetch_history"]
    assert [run["actor"] for run in history if run["source"] == "import"] == ["en redaktør"]
    viewer = logged_in(app, "lise")
    assert IMPORTER in viewer.get("/indikator/sykefravaer").get_data(as_text=True)
    sources = viewer.get("/kilder").get_data(as_text=True)
    assert IMPORTER in sources and f"av {REQUESTER}" in sources
    history = viewer.get("/api/indicators/sykefravaer").get_json()["fetch_history"]
    assert [run["actor"] for run in history if run["source"] == "import"] == [IMPORTER]


# -- 4. security headers ---------------------------------------------------------------------------------


def assert_security_headers(headers: httpx.Headers | dict[str, str] | object, where: str) -> None:
    get = headers.get  # type: ignore[attr-defined]
    csp = get("Content-Security-Policy") or ""
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}
    assert directives.get("default-src") == "default-src 'self'", (where, csp)
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", (where, csp)
    assert "script-src" not in directives and "'unsafe-inline'" not in csp, (where, csp)
    assert get("X-Content-Type-Options") == NOSNIFF, where
    assert get("Referrer-Policy") == "same-origin", where


def test_every_kind_of_response_carries_the_security_headers(app: Flask) -> None:
    @app.get("/proeve-feil")
    def broken() -> str:
        raise RuntimeError("en feil")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    paths = {"/": 200, "/logg-inn": 200, "/api/indicators": 200, "/static/style.css": 200, "/finnes-ikke": 404,
             "/api/indicators/finnes-ikke": 404, "/import": 302, "/healthz": 200, "/proeve-feil": 500}
    for path, status in paths.items():
        with client.get(path) as response:
            assert response.status_code == status, path
            assert_security_headers(response.headers, path)
            assert "Strict-Transport-Security" not in response.headers, path
    assert_security_headers(client.post("/logg-inn").headers, "POST /logg-inn without token")


def test_strict_transport_security_only_behind_tls(tmp_path: Path) -> None:
    app = make_app(tmp_path, behind_tls=True)
    for path in ("/", "/api/indicators", "/static/style.css", "/finnes-ikke"):
        with app.test_client().get(path) as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path


def test_pages_need_no_inline_script_or_style(app: Flask) -> None:
    seed_importer(db_path(app))
    admin = logged_in(app, "anne")
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    checked = 0
    for endpoint, url in read_rules(app):
        if endpoint in ("static", "health") or url.startswith("/api/"):
            continue
        response = admin.get(url)
        if response.mimetype != "text/html":
            continue
        found = inline.search(response.get_data(as_text=True))
        assert found is None, (url, found.group(0) if found else None)
        checked += 1
    for url in ("/", "/indikator/sykefravaer", "/kilder", "/eksport", "/import", "/logg-ut"):
        assert inline.search(admin.get(url).get_data(as_text=True)) is None, url
    assert inline.search(app.test_client().get("/logg-inn").get_data(as_text=True)) is None
    assert checked >= 5


def test_the_html_export_allows_exactly_its_own_style_by_hash(app: Flask) -> None:
    response = app.test_client().get("/eksport/arsrapport?fra=2019&til=2022&format=html")
    assert response.status_code == 200
    assert_security_headers(response.headers, "html export")
    html = response.get_data(as_text=True)
    styles = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode("utf-8")).digest()).decode("ascii")
    assert f"style-src 'self' 'sha256-{digest}'" in response.headers["Content-Security-Policy"]


# -- 5. trusted proxies ----------------------------------------------------------------------------------


def behind_proxy(app: Flask, client_address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": client_address}
    return client


def attempt_addresses(app: Flask) -> set[str]:
    with Store(db_path(app)) as store:
        return {row[0] for row in store.conn.execute("SELECT remote_addr FROM login_attempts")}


def test_with_one_trusted_proxy_the_limits_see_the_real_clients(tmp_path: Path) -> None:
    app = make_app(tmp_path, trusted_proxies=1)
    for number in range(MAX_FAILURES_PER_ADDRESS):
        login(behind_proxy(app, "203.0.113.5"), f"ukjent{number}", "feil-passord")
    assert login(behind_proxy(app, "203.0.113.5"), "erik").status_code == 429
    assert login(behind_proxy(app, "203.0.113.6"), "erik").status_code == 302  # another client behind the same proxy
    assert attempt_addresses(app) == {"203.0.113.5", "203.0.113.6"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(app: Flask) -> None:
    for number in range(MAX_FAILURES_PER_ADDRESS):
        login(behind_proxy(app, f"203.0.113.{number}"), f"ukjent{number}", "feil-passord")
    assert login(behind_proxy(app, "203.0.113.200"), "erik").status_code == 429  # a made-up header escapes nothing
    assert attempt_addresses(app) == {"127.0.0.1"}


# -- 6. one charset --------------------------------------------------------------------------------------


def test_csv_downloads_name_their_charset_once(app: Flask) -> None:
    export = app.test_client().get("/eksport/arsrapport?fra=2019&til=2022&format=csv")
    assert export.status_code == 200 and export.headers["Content-Type"] == "text/csv; charset=utf-8"
    html = app.test_client().get("/eksport/arsrapport?fra=2019&til=2022&format=html")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    editor = logged_in(app, "erik")
    page = editor.get("/import").get_data(as_text=True)
    templates = sorted(set(re.findall(r'/import/mal/[^"]+\.csv', page)))
    assert templates
    for url in templates:
        response = editor.get(url)
        assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8", url


# -- acceptance, from outside: `monitor serve` on a loopback port ----------------------------------------


@dataclass
class Served:
    base_url: str
    db: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve")
    db = home / "monitor.db"
    with Store(db) as store:
        store.migrate()
        for name, password in PASSWORDS.items():
            Users(store).add(name, password, ROLES[name], NOW)
    seed_importer(db)
    env = {**os.environ, "MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(FIXTURES / "catalogue" / "imports.yaml"),
           "MONITOR_RAW_DIR": str(home / "raw"), "MONITOR_SECRET_KEY": SECRET_KEY, "MONITOR_READ_OPEN": "true"}
    port = _free_port()
    process = subprocess.Popen([str(Path(sys.executable).parent / "monitor"), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(base_url + "/healthz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert wait_until(answers, timeout=60), f"{base_url} did not answer"
        yield Served(base_url, db)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def served_login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    page = client.get("/logg-inn")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post("/logg-inn", data={"brukernavn": name, "passord": password, "csrf_token": token.group(1)})


def test_served_pages_and_api_carry_nosniff_and_a_csp_without_framing(served: Served) -> None:
    for path in ("/", "/logg-inn", "/api/indicators", "/static/style.css", "/finnes-ikke"):
        response = httpx.get(served.base_url + path)
        assert_security_headers(response.headers, path)


def test_served_a_cookie_copied_before_logout_no_longer_opens_import(served: Served) -> None:
    with httpx.Client(base_url=served.base_url) as owner, httpx.Client(base_url=served.base_url) as thief:
        assert served_login(owner, "erik", PASSWORDS["erik"]).status_code == 302
        thief.cookies.set(COOKIE, owner.cookies[COOKIE])
        assert thief.get("/import").status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', owner.get("/import").text)
        assert token is not None
        assert owner.post("/logg-ut", data={"csrf_token": token.group(1)}).status_code == 302
        response = thief.get("/import")
        assert response.status_code == 302 and response.headers["Location"].startswith("/logg-inn")


def test_served_thirty_parallel_wrong_logins_check_at_most_the_limit(served: Served) -> None:
    clients = [httpx.Client(base_url=served.base_url, timeout=60) for _ in range(30)]
    try:
        tokens = []
        for client in clients:
            found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/logg-inn").text)
            assert found is not None
            tokens.append(found.group(1))
        start = threading.Barrier(len(clients))
        answers: list[tuple[int, bool]] = []

        def guess(client: httpx.Client, token: str) -> None:
            start.wait()
            response = client.post("/logg-inn", data={"brukernavn": "lise", "passord": "feil-passord", "csrf_token": token})
            answers.append((response.status_code, LOGIN_FAILED in response.text))

        threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for client in clients:
            client.close()
    checked = sum(1 for status, failed in answers if status == 200 and failed)
    assert len(answers) == 30 and checked == MAX_FAILURES_PER_USER, answers
    assert sorted(status for status, _ in answers) == [200] * MAX_FAILURES_PER_USER + [429] * (30 - MAX_FAILURES_PER_USER)
    with Store(served.db) as store:
        recorded = store.conn.execute("SELECT COUNT(*) FROM login_attempts WHERE username = 'lise'").fetchone()[0]
    assert recorded == MAX_FAILURES_PER_USER


def test_served_anonymous_readers_see_no_login_name(served: Served) -> None:
    for path in ("/indikator/sykefravaer", "/kilder", "/api/indicators/sykefravaer", "/api/indicators"):
        response = httpx.get(served.base_url + path)
        assert response.status_code == 200, path
        assert IMPORTER not in response.text, path
    assert "en redaktør" in httpx.get(served.base_url + "/kilder").text
