"""Users, roles, login and CSRF: who may read, and who may write.

Every request passes `_gate` (registered before Flask-WTF's CSRF check, so a logged-out POST is sent to
the login page rather than refused for its token):

- a route decorated with `login_required(role)` needs a logged-in user with that role or above
  (viewer < editor < admin);
- a write (any method but GET, HEAD, OPTIONS) to a route without a decorator needs an editor, except
  the login form itself — so a write route nobody remembered to protect is still protected;
- with MONITOR_READ_OPEN=false every page and /api/* needs a logged-in viewer (the login page, static
  files, /healthz and /metrics stay open; /metrics has its own access rule, MONITOR_METRICS_ACCESS).

Refused and logged out: pages redirect to /logg-inn?neste=…, /api/* answers 401 JSON. Logged in
with too low a role: 403. Every POST then needs the form's CSRF token (Flask-WTF); without it: 400.

A session holds the user's id, their session key (which changes with the password and with the user's
session version, raised by logging out) and when it logged in and was last used: it ends on logout
(every copy of the cookie), a new password, removal of the user, MONITOR_SESSION_IDLE_MINUTES without
a request, or MONITOR_SESSION_MAX_HOURS after logging in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect

from web.store import get_store
from monitor.store.users import MAX_PASSWORD_LENGTH, ROLE_RANK, ROLE_WORDS, User, Users
from web import clock

log = logging.getLogger("web.auth")
bp = Blueprint("auth", __name__)
csrf = CSRFProtect()

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health", "metrics"})  # /metrics: its own rule (web/ops.py)
DEFAULT_WRITE_ROLE = "editor"
LOGIN_FAILED = "Feil brukernavn eller passord."
LOCKED_OUT = ("For mange mislykkede innlogginger. Vent et kvarter og prøv igjen, "
              "eller be en administrator om hjelp.")
CSRF_MESSAGE = ("Skjemaet mangler en gyldig sikkerhetsnøkkel (CSRF), eller siden har vært åpen for lenge. "
                "Gå tilbake, last inn siden på nytt og prøv igjen.")
_SESSION_KEY = "user"
ANONYMOUS_IMPORTER = "en redaktør"  # who imported a file, as anonymous readers see it
ANONYMOUS_ADMIN = "en administrator"  # who asked for a fetch, as anonymous readers see it

View = TypeVar("View", bound=Callable[..., Any])


def login_required(role: str) -> Callable[[View], View]:
    """Let only a logged-in user with `role` or above in (viewer < editor < admin)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refusal = _refusal(role)
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]
        return cast(View, wrapper)

    return decorate


def current_user() -> User | None:
    """The logged-in user, read from the store once per request (a removed user is logged out at once)."""
    if "current_user" in g:
        return cast(User | None, g.current_user)
    user: User | None = None
    stored = session.get(_SESSION_KEY)
    if isinstance(stored, dict) and isinstance(stored.get("id"), int):
        now = clock.now()
        found = Users(get_store()).by_id(stored["id"]) if _still_fresh(stored, now) else None
        if found is not None and found.session_key == stored.get("key"):
            user = found
            session[_SESSION_KEY] = {**stored, "seen": int(now.timestamp())}
        else:
            session.pop(_SESSION_KEY, None)
    g.current_user = user
    return user


def _still_fresh(stored: dict[str, Any], now: datetime) -> bool:
    """Whether a session is within its idle time and its absolute lifetime (MONITOR_SESSION_*)."""
    config = clock.settings()
    login_at, seen_at = stored.get("login"), stored.get("seen")
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False  # a session from before these limits, or a forged one: log in again
    moment = now.timestamp()
    idle = timedelta(minutes=config.session_idle_minutes).total_seconds()
    lifetime = timedelta(hours=config.session_max_hours).total_seconds()
    return moment - seen_at <= idle and moment - login_at <= lifetime


def shown_name(name: str | None, anonymous: str = ANONYMOUS_IMPORTER) -> str | None:
    """A login name as the current reader may see it: itself for a logged-in user, `anonymous` for anyone else.

    With open reading, showing who imported a file would hand anyone the login names to guess passwords for.
    """
    if name is None or current_user() is not None:
        return name
    return anonymous


def _refusal(role: str) -> ResponseReturnValue | None:
    """None when the current user may go on; else the redirect, 401 or 403 to answer with."""
    user = current_user()
    if user is None:
        if request.path.startswith("/api/"):
            body = {"error": "Innlogging kreves", "detail": "Logg inn på nettsidene først.", "status": 401}
            return jsonify(body), 401
        if request.method in SAFE_METHODS:
            return redirect(url_for("auth.login", neste=request.full_path.rstrip("?")))
        flash("Logg inn for å fortsette.")
        return redirect(url_for("auth.login"))
    if not user.has_role(role):
        message = f"Dette krever rollen {ROLE_WORDS[role]}; du er logget inn som {ROLE_WORDS[user.role]}."
        if request.path.startswith("/api/"):
            return jsonify({"error": "Ingen tilgang", "detail": message, "status": 403}), 403
        return render_template("auth_refused.html", message=message), 403
    return None


def _required_role() -> str | None:
    """The role the current request needs before its view runs, or None when it is open."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None  # no such route (404/405 follow), or open to all
    view = current_app.view_functions.get(endpoint)
    role = cast(str | None, getattr(view, "required_role", None))
    if role is None and request.method not in SAFE_METHODS:
        role = DEFAULT_WRITE_ROLE
    if role is None and not clock.settings().read_open:
        role = "viewer"
    return role


def _gate() -> ResponseReturnValue | None:
    if _SESSION_KEY in session and request.endpoint != "static":
        current_user()  # every request of a logged-in user counts as use (the idle limit), or ends a stale session
    role = _required_role()
    return _refusal(role) if role is not None else None


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another host."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if parts.path in ("/logg-inn", "/logg-ut"):
        return "/"
    return target


def _remote_addr() -> str:
    # The client's address; behind MONITOR_TRUSTED_PROXIES proxies, ProxyFix has put the real client's here.
    return request.remote_addr or "ukjent"


@bp.route("/logg-inn", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form; POST checks the password, rate-limited per (address, username) and per address."""
    target = _safe_next(request.values.get("neste"))
    if request.method == "GET":
        return render_template("auth_login.html", neste=target, username="", error=None)
    username = request.form.get("brukernavn", "")[:200]
    password = request.form.get("passord", "")
    now = clock.now()
    store = get_store()
    users = Users(store)
    attempt = users.begin_attempt(username, _remote_addr(), now)  # counted and recorded before the check
    if attempt is None:
        log.warning("innlogging sperret (for mange forsøk): %r fra %s", username, _remote_addr())
        return render_template("auth_login.html", neste=target, username=username, error=LOCKED_OUT), 429
    user = users.authenticate(username, password) if len(password) <= MAX_PASSWORD_LENGTH else None
    if user is not None:
        users.attempt_succeeded(attempt)
    if user is None:
        log.info("mislykket innlogging: %r fra %s", username, _remote_addr())
        return render_template("auth_login.html", neste=target, username=username, error=LOGIN_FAILED)
    session.clear()  # a fresh session (and CSRF token) for the logged-in user
    stamp = int(now.timestamp())
    session[_SESSION_KEY] = {"id": user.id, "key": user.session_key, "login": stamp, "seen": stamp}
    session.permanent = True
    g.current_user = user
    log.info("innlogget: %s (%s) fra %s", user.username, user.role, _remote_addr())
    return redirect(target)


@bp.get("/logg-ut")
@login_required("viewer")
def logout_page() -> ResponseReturnValue:
    """A page with the logout button (logging out is a POST, so another site cannot do it for you)."""
    return render_template("auth_logout.html")


@bp.post("/logg-ut")
@login_required("viewer")
def logout() -> ResponseReturnValue:
    """End the session: every copy of it (and the user's other sessions), not only this browser's cookie."""
    user = current_user()
    if user is not None:
        Users(get_store()).end_sessions(user.id)
    session.clear()
    if user is not None:
        log.info("logget ut: %s", user.username)
    flash("Du er logget ut.")
    return redirect(url_for("auth.login"))


def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    log.info("CSRF-kontroll avviste %s %s: %s", request.method, request.path, exc.description)
    if request.path.startswith("/api/"):
        return jsonify({"error": "Ugyldig forespørsel", "detail": CSRF_MESSAGE, "status": 400}), 400
    return render_template("auth_refused.html", title="Ugyldig forespørsel", message=CSRF_MESSAGE), 400


def _template_globals() -> dict[str, Any]:
    def can(role: str) -> bool:
        user = current_user()
        return user is not None and user.has_role(role)

    return {"current_user": current_user, "can": can, "role_words": ROLE_WORDS, "shown_name": shown_name,
            "anonymous_admin": ANONYMOUS_ADMIN}


def init_app(app: Flask) -> None:
    """Hook the gate, then Flask-WTF's CSRF check (in that order), the CSRF error page and template helpers.

    Templates get `current_user()` (a User or None), `can(role)` and `role_words`, and Flask-WTF's
    `csrf_token()`, which every form must send as the hidden field `csrf_token`.
    """
    app.before_request(_gate)  # must be registered before CSRFProtect's own before_request
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_error)
    app.context_processor(_template_globals)
