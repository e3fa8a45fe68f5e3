"""The pages under their Content-Security-Policy in a real browser: nothing on them is refused (issue 16, web §4)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

PAGES = ["/", "/indikator/netto_lanegjeld", "/indikator/disposisjonsfond", "/indikator/sykefravaer", "/kilder",
         "/kostra", "/kostra/oppvekst", "/eksport", "/logg-inn", "/finnes-ikke",
         "/eksport/arsrapport?fra=2019&til=2022&format=html"]
LOGGED_IN = ["/import", "/kilder", "/logg-ut", "/indikator/sykefravaer"]


def watch(page: Any) -> list[str]:
    """Every CSP refusal the page reports: securitypolicyviolation events and Chromium's console errors."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile))"
    )
    return refused


def test_no_page_breaks_its_content_security_policy(page: Any, base_url: str, admin: tuple[str, str]) -> None:
    refused = watch(page)
    for path in PAGES:
        response = page.goto(base_url + path)
        assert response is not None and "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
    page.goto(base_url + "/logg-inn")
    page.fill("input[name=brukernavn]", admin[0])
    page.fill("input[name=passord]", admin[1])
    page.click("main button[type=submit]")
    page.wait_for_url(base_url + "/")
    for path in LOGGED_IN:
        page.goto(base_url + path)
        page.wait_for_load_state("load")
    assert refused == []


def test_the_stylesheet_applies_under_the_policy(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    sheets = page.evaluate("[...document.styleSheets].map(s => s.href)")
    assert any(str(href).endswith("/static/style.css") for href in sheets)
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0


def test_an_inline_style_would_be_refused(page: Any, base_url: str) -> None:
    """The watch above can see a refusal: a <style> element added to a page is reported."""
    refused = watch(page)
    page.goto(base_url + "/")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("""() => {
            const s = document.createElement('style'); s.textContent = 'p { color: red }'; document.head.appendChild(s);
        }""")
    assert refused
