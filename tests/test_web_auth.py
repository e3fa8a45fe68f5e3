"""Security of the web UI: login, roles, the write gate, CSRF, session cookies, rate limits, read_open, secrets."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from support.auth_helpers import (
    NOW,
    PASSWORDS,
    SECRET_KEY,
    csrf_token,
    logged_in,
    login,
    make_app,
    read_rules,
    write_rules,
)
from support.checks import file_digest
from support.paths import FIXTURES
from monitor.cli.main import cli
from monitor.store.database import Store
from monitor.core.errors import UserError
from monitor.store.users import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER, WINDOW, Users
from web.auth import CSRF_MESSAGE, LOCKED_OUT, LOGIN_FAILED

LOGIN_PATH = "/logg-inn"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


def db_path(app: Flask) -> Path:
    return Path(app.config["MONITOR_SETTINGS"].db)


# -- the write gate ---------------------------------------------------------------------------------


def test_every_write_route_redirects_to_login_when_logged_out(app: Flask) -> None:
    routes = write_rules(app)
    endpoints = {endpoint for endpoint, _, _ in routes}
    assert {"uploads.import_upload", "auth.logout"} <= endpoints  # the enumeration is not empty
    before = file_digest(db_path(app))
    for endpoint, method, url in routes:
        if endpoint == "auth.login":
            continue
        response = app.test_client().open(url, method=method, data={"x": "1"})
        assert response.status_code == 302, (endpoint, method, url, response.status_code)
        assert response.headers["Location"].startswith(LOGIN_PATH), (endpoint, response.headers["Location"])
    assert file_digest(db_path(app)) == before


def test_protected_pages_redirect_to_login_with_the_way_back(app: Flask) -> None:
    client = app.test_client()
    for url in ("/import", "/import/mal/asker-kommune.csv", "/logg-ut"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == f"{LOGIN_PATH}?neste={url}"


def test_a_write_route_without_a_declared_role_still_needs_an_editor(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.add_url_rule("/ubeskyttet", "unprotected", lambda: "skrevet", methods=["POST"])
    assert app.test_client().post("/ubeskyttet").status_code == 302
    viewer = logged_in(app, "lise")
    assert viewer.post("/ubeskyttet", data={"csrf_token": csrf_token(viewer)}).status_code == 403
    editor = logged_in(app, "erik")
    response = editor.post("/ubeskyttet", data={"csrf_token": csrf_token(editor)})
    assert (response.status_code, response.get_data(as_text=True)) == (200, "skrevet")


def test_roles_are_ordered_viewer_editor_admin(app: Flask) -> None:
    viewer = logged_in(app, "lise")
    refused = viewer.get("/import")
    assert refused.status_code == 403 and "krever rollen redaktør" in refused.get_data(as_text=True)
    token = csrf_token(viewer)
    assert viewer.post("/import", data={"csrf_token": token}).status_code == 403
    assert logged_in(app, "erik").get("/import").status_code == 200
    assert logged_in(app, "anne").get("/import").status_code == 200
    # fetching now is for admins only
    editor = logged_in(app, "erik")
    fetch_routes = [url for endpoint, method, url in write_rules(app) if endpoint == "views.request_source_fetch"]
    for url in fetch_routes:
        assert editor.post(url, data={"csrf_token": csrf_token(editor)}).status_code == 403


# -- CSRF ------------------------------------------------------------------------------------------


def test_csrf_is_enforced_on_every_post_route(app: Flask) -> None:
    admin = logged_in(app, "anne")
    before = file_digest(db_path(app))
    for endpoint, method, url in write_rules(app):
        response = admin.open(url, method=method, data={"brukernavn": "anne", "passord": PASSWORDS["anne"]})
        assert response.status_code == 400, (endpoint, method, url, response.status_code)
        assert CSRF_MESSAGE in response.get_data(as_text=True), endpoint
        wrong = admin.open(url, method=method, data={"csrf_token": "feil-token"})
        assert wrong.status_code == 400, (endpoint, "wrong token")
    assert file_digest(db_path(app)) == before
    assert admin.get("/import").status_code == 200  # still logged in: nothing was done


def test_the_login_form_itself_needs_its_csrf_token(app: Flask) -> None:
    client = app.test_client()
    response = client.post(LOGIN_PATH, data={"brukernavn": "anne", "passord": PASSWORDS["anne"]})
    assert response.status_code == 400 and "Ugyldig forespørsel" in response.get_data(as_text=True)
    assert client.get("/import").status_code == 302  # not logged in


def test_a_token_from_another_session_is_refused(app: Flask) -> None:
    stranger = app.test_client()
    token = csrf_token(stranger)
    admin = logged_in(app, "anne")
    assert admin.post("/logg-ut", data={"csrf_token": token}).status_code == 400


def test_every_form_carries_a_csrf_token(app: Flask) -> None:
    admin = logged_in(app, "anne")
    for endpoint, url in read_rules(app):
        if endpoint in ("static", "uploads.template_download", "health"):
            continue
        page = admin.get(url).get_data(as_text=True)
        forms = page.count("<form")
        post_forms = page.lower().count('method="post"')
        assert page.count('name="csrf_token"') >= post_forms, endpoint
        assert forms >= post_forms


# -- login, logout, sessions -------------------------------------------------------------------------


def test_login_and_logout(app: Flask) -> None:
    client = app.test_client()
    response = login(client, "erik")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/import").get_data(as_text=True)
    assert "erik (redaktør)" in page
    assert client.post("/logg-ut", data={"csrf_token": csrf_token(client, "/import")}).status_code == 302
    assert client.get("/import").status_code == 302


def test_login_goes_back_to_a_local_page_only(app: Flask) -> None:
    for target, expected in [
        ("/import", "/import"), ("https://evil.example/", "/"), ("//evil.example/x", "/"),
        ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("", "/"),
    ]:
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(LOGIN_PATH, data={
            "brukernavn": "erik", "passord": PASSWORDS["erik"], "csrf_token": token, "neste": target,
        })
        assert response.headers["Location"] == expected, target


def test_session_cookie_flags(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    cookie = login(app.test_client(), "erik").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    tls = make_app(tmp_path, behind_tls=True)
    cookie = login(tls.test_client(), "erik").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_a_removed_user_is_logged_out_at_once(app: Flask) -> None:
    client = logged_in(app, "erik")
    assert client.get("/import").status_code == 200
    with Store(db_path(app)) as store:
        Users(store).remove("erik")
    assert client.get("/import").status_code == 302


def test_a_user_added_again_does_not_inherit_old_sessions(app: Flask) -> None:
    client = logged_in(app, "erik")
    with Store(db_path(app)) as store:
        users = Users(store)
        users.remove("erik")
        users.add("erik", "et-helt-nytt-passord", "editor", NOW)
    assert client.get("/import").status_code == 302


def test_unknown_user_and_wrong_password_look_the_same(app: Flask) -> None:
    unknown = login(app.test_client(), "finnes-ikke", "noe-passord-123")
    wrong = login(app.test_client(), "erik", "feil-passord-123")
    assert unknown.status_code == wrong.status_code == 200
    assert LOGIN_FAILED in unknown.get_data(as_text=True) and LOGIN_FAILED in wrong.get_data(as_text=True)
    strip = lambda text, name: text.replace(f'value="{name}"', "").split('name="csrf_token"')[0]  # noqa: E731
    assert strip(unknown.get_data(as_text=True), "finnes-ikke") == strip(wrong.get_data(as_text=True), "erik")


@pytest.mark.parametrize("text", ["' OR '1'='1' --", "erik'; DROP TABLE users; --", "\" OR 1=1 /*", "erik\x00"])
def test_sql_injection_in_the_login_form_is_harmless(app: Flask, text: str) -> None:
    for name, password in [(text, "x"), ("erik", text), (text, text)]:
        client = app.test_client()
        response = login(client, "erik", password) if name == "erik" else client.post(LOGIN_PATH, data={
            "brukernavn": name, "passord": password, "csrf_token": csrf_token(client)})
        assert response.status_code == 200 and LOGIN_FAILED in response.get_data(as_text=True)
        assert client.get("/import").status_code == 302
    with Store(db_path(app)) as store:
        assert [u.username for u in Users(store).all()] == ["anne", "erik", "lise"]


def test_sql_injection_in_filters_is_harmless(app: Flask) -> None:
    before = file_digest(db_path(app))
    injection = "' OR 1=1; DROP TABLE observations; --"
    query = {name: injection for name in ("area", "state", "source", "region", "period", "indicator", "q", "since")}
    client = app.test_client()
    for endpoint, url in read_rules(app):
        if endpoint == "static":
            continue
        response = client.get(url, query_string=query)
        assert response.status_code < 500, (endpoint, response.status_code)
        assert injection not in response.get_data(as_text=True), endpoint  # echoed only escaped, if at all
    assert file_digest(db_path(app)) == before
    with Store(db_path(app)) as store:
        assert len(Users(store).all()) == 3 and store.count_observations() == 0


# -- rate limiting -------------------------------------------------------------------------------------


def test_too_many_failures_for_a_username_lock_it_for_a_while(app: Flask) -> None:
    for _ in range(MAX_FAILURES_PER_USER):
        assert LOGIN_FAILED in login(app.test_client(), "erik", "feil-passord").get_data(as_text=True)
    locked = login(app.test_client(), "erik")  # even the right password is refused now
    assert locked.status_code == 429 and LOCKED_OUT in locked.get_data(as_text=True)
    assert login(app.test_client(), "anne").status_code == 302  # other users are not affected
    unknown = [login(app.test_client(), "ukjent", "feil-passord") for _ in range(MAX_FAILURES_PER_USER + 1)]
    assert unknown[-1].status_code == 429  # unknown names are locked the same way: no enumeration
    app.config["MONITOR_NOW"] = NOW + WINDOW + timedelta(seconds=1)
    assert login(app.test_client(), "erik").status_code == 302
    with Store(db_path(app)) as store:
        rows = store.conn.execute("SELECT username, remote_addr, succeeded FROM login_attempts").fetchall()
    assert ("erik", "127.0.0.1", 0) in rows and ("erik", "127.0.0.1", 1) in rows


def test_a_successful_login_resets_the_username_count(app: Flask) -> None:
    for _ in range(MAX_FAILURES_PER_USER - 1):
        login(app.test_client(), "erik", "feil-passord")
    assert login(app.test_client(), "erik").status_code == 302
    for _ in range(MAX_FAILURES_PER_USER - 1):
        login(app.test_client(), "erik", "feil-passord")
    assert login(app.test_client(), "erik").status_code == 302


def test_too_many_failures_from_one_address_lock_that_address(app: Flask) -> None:
    for number in range(MAX_FAILURES_PER_ADDRESS):
        login(app.test_client(), "lise" if number == 0 else f"ukjent{number}", "feil-passord")
    assert login(app.test_client(), "anne").status_code == 429
    other = app.test_client()
    other.environ_base = {"REMOTE_ADDR": "10.0.0.9"}
    assert login(other, "anne").status_code == 302


# -- read_open ---------------------------------------------------------------------------------------


def test_read_closed_locks_every_page_and_the_api(tmp_path: Path) -> None:
    app = make_app(tmp_path, read_open=False)
    app.add_url_rule("/api/proeve", "api_probe", lambda: {"ok": True})  # an API route even if none exists yet
    client = app.test_client()
    checked = 0
    for endpoint, url in read_rules(app):
        response = client.get(url)
        if endpoint in ("auth.login", "health"):
            assert response.status_code == 200, endpoint
        elif endpoint == "metrics":  # no login (Prometheus has none), but its own rule: this machine only by default
            assert response.status_code == 200, endpoint
            assert client.get(url, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403, endpoint
        elif endpoint == "static":
            assert response.status_code in (200, 404)
        elif url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, response.status_code)
            assert response.get_json()["error"] == "Innlogging kreves"
            checked += 1
        else:
            assert response.status_code == 302 and response.headers["Location"].startswith(LOGIN_PATH), endpoint
            checked += 1
    assert checked >= 3
    viewer = logged_in(app, "lise")
    assert viewer.get("/api/proeve").get_json() == {"ok": True}
    assert viewer.get("/").status_code == 200


def test_read_open_lets_anyone_read(app: Flask) -> None:
    app.add_url_rule("/api/proeve", "api_probe", lambda: {"ok": True})
    assert app.test_client().get("/api/proeve").status_code == 200
    assert app.test_client().get("/").status_code == 200


# -- secrets ------------------------------------------------------------------------------------------


def test_secrets_never_appear_in_pages_cookies_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    smtp_password = "smtp-hemmelig-passord-31"
    app = make_app(tmp_path, smtp_password=smtp_password, smtp_user="varsel")
    secrets = [SECRET_KEY, smtp_password, *PASSWORDS.values(), "nytt-hemmelig-passord-42"]
    seen: list[str] = []
    for name in PASSWORDS:
        client = app.test_client()
        failed = login(client, name, PASSWORDS[name] + "x")
        seen += [failed.get_data(as_text=True), str(failed.headers)]
        ok = login(client, name)
        seen.append(str(ok.headers))
        for endpoint, url in read_rules(app):
            if endpoint != "static":
                response = client.get(url)
                seen += [response.get_data(as_text=True), str(response.headers)]
        seen.append(client.post("/logg-ut").get_data(as_text=True))  # a CSRF error page
        seen.append(client.get("/finnes-ikke").get_data(as_text=True))
    env = {"MONITOR_DB": str(db_path(app)), "MONITOR_CATALOGUE": str(FIXTURES / "catalogue" / "imports.yaml"),
           "MONITOR_SMTP_PASSWORD": smtp_password, "MONITOR_SECRET_KEY": SECRET_KEY}
    result = CliRunner().invoke(cli, ["user", "add", "ny", "--role", "viewer", "--password-stdin"],
                                input="nytt-hemmelig-passord-42\n", env=env)
    assert result.exit_code == 0, result.output
    seen += [result.output, CliRunner().invoke(cli, ["user", "list"], env=env).output]
    seen += [record.getMessage() for record in caplog.records]
    seen.append(repr(app.config["MONITOR_SETTINGS"]))
    text = "\n".join(seen)
    for secret in secrets:
        assert secret not in text
    wal = db_path(app).with_name("monitor.db-wal")
    raw = db_path(app).read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for password in [*PASSWORDS.values(), "nytt-hemmelig-passord-42"]:
        assert password.encode() not in raw


# -- the user commands and the user store ----------------------------------------------------------------


def test_user_commands(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with Store(db) as store:
        store.migrate()
    env = {"MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(FIXTURES / "catalogue" / "imports.yaml")}
    runner = CliRunner()
    added = runner.invoke(cli, ["user", "add", "Kari.Nordmann", "--role", "editor"],
                          input="et-langt-passord\net-langt-passord\n", env=env)
    assert added.exit_code == 0 and "kari.nordmann" in added.output and "redaktør" in added.output
    assert "et-langt-passord" not in added.output  # the prompt is hidden
    mismatch = runner.invoke(cli, ["user", "add", "ola"], input="et-langt-passord\nannet-passord1\net-langt-passord\n"
                             "et-langt-passord\n", env=env)
    assert mismatch.exit_code == 0 and "rollen viewer" in mismatch.output
    short = runner.invoke(cli, ["user", "add", "per", "--password-stdin"], input="kort\n", env=env)
    assert short.exit_code == 1 and "minst 10 tegn" in short.output and "kort\n" not in short.output
    taken = runner.invoke(cli, ["user", "add", "KARI.nordmann", "--password-stdin"], input="et-langt-passord\n", env=env)
    assert taken.exit_code == 1 and "finnes fra før" in taken.output
    bad = runner.invoke(cli, ["user", "add", "<script>", "--password-stdin"], input="et-langt-passord\n", env=env)
    assert bad.exit_code == 1 and "ugyldig brukernavn" in bad.output
    listed = runner.invoke(cli, ["user", "list"], env=env).output
    assert "kari.nordmann" in listed and "editor" in listed and "ola" in listed and "viewer" in listed
    assert runner.invoke(cli, ["user", "remove", "ola"], env=env).exit_code == 0
    assert runner.invoke(cli, ["user", "remove", "ola"], env=env).exit_code == 1
    assert "ola" not in runner.invoke(cli, ["user", "list"], env=env).output


def test_passwords_are_hashed_with_a_slow_hash(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        store.migrate()
        users = Users(store)
        users.add("kari", "et-langt-passord", "admin", NOW)
        [stored] = store.conn.execute("SELECT password_hash FROM users").fetchone()
        assert stored.startswith(("scrypt:", "pbkdf2:")) and "et-langt-passord" not in stored
        assert users.authenticate("KARI", "et-langt-passord") is not None
        assert users.authenticate("kari", "et-langt-passorD") is None
        with pytest.raises(UserError):
            users.add("ole", "et-langt-passord", "superuser", NOW)
