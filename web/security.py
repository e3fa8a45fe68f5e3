"""Security headers on every response, and the reverse proxies whose X-Forwarded-* headers are believed.

Every response (pages, the API, static files, error pages) carries a Content-Security-Policy that allows
only this site's own files (no inline script or style, no framing), `X-Content-Type-Options: nosniff`,
`Referrer-Policy: same-origin`, and with MONITOR_BEHIND_TLS `Strict-Transport-Security`. A response that
needs more (the HTML export's own <style>) sets its policy itself with `policy(style_hashes=…)`.

With MONITOR_TRUSTED_PROXIES=N (N > 0), Werkzeug's ProxyFix takes the client's address, scheme and host
from the last N X-Forwarded-* values, so per-address login limits see real clients; with 0 (the default)
those headers are ignored.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from web import clock

HSTS = "max-age=31536000"  # a year
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def policy(style_hashes: Iterable[str] = ()) -> str:
    """The Content-Security-Policy: this site only; `style_hashes` ('sha256-…') allow those inline <style> blocks."""
    extra = " ".join(f"'{digest}'" for digest in style_hashes)
    parts = ["default-src 'self'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
             "object-src 'none'"]
    if extra:
        parts.append(f"style-src 'self' {extra}")
    return "; ".join(parts)


def inline_style_hashes(html: str) -> list[str]:
    """The CSP hashes ('sha256-…') of every <style> block in a whole HTML document."""
    return ["sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii")
            for block in _STYLE_BLOCK.findall(html)]


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"  # what frame-ancestors says, for browsers without CSP level 2
    if clock.settings().behind_tls:
        headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response; trust MONITOR_TRUSTED_PROXIES proxies' forwarded headers."""
    app.after_request(_add_headers)
    proxies = int(app.config["MONITOR_SETTINGS"].trusted_proxies)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

