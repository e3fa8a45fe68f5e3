"""Every page on a phone (issue 17 §13): nothing wider than the viewport at 390×844, and screenshots of
every page at 1366×900 and 390×844 in tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# The elements that reach past the right edge, to say in a failure what overflows.
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
    || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'))
  .slice(-8)
  .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim()
    .replace(/ +/g, '.') : '') + ' ' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth
    + ' ' + (e.textContent || '').trim().slice(0, 40))"""
# (screenshot name, path, logged in?)
PAGES = [
    ("overview", "/", False),
    ("indicator", "/indikator/netto_driftsresultat", False),
    ("kilder", "/kilder", False),
    ("kostra", "/kostra", False),
    ("kostra-area", "/kostra/oppvekst", False),
    ("eksport", "/eksport", False),
    ("import", "/import", True),
    ("logg-inn", "/logg-inn", False),
]


@pytest.fixture
def context_for(browser: Any, base_url: str, admin: tuple[str, str]) -> Iterator[Any]:
    opened: list[Any] = []

    def make(viewport: dict[str, int], logged_in: bool) -> Any:
        context = browser.new_context(viewport=viewport, locale="nb-NO")
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if logged_in:
            page.goto(base_url + "/logg-inn?neste=/import")
            page.fill("input[name=brukernavn]", admin[0])
            page.fill("input[name=passord]", admin[1])
            page.click("main button[type=submit]")
            page.wait_for_url("**/import")
        return page

    yield make
    for context in opened:
        context.close()


@pytest.mark.parametrize(("name", "path", "logged_in"), PAGES, ids=[p[0] for p in PAGES])
def test_no_page_is_wider_than_a_phone(context_for: Any, base_url: str, artifacts: Path,
                                       name: str, path: str, logged_in: bool) -> None:
    page = context_for(PHONE, logged_in)
    response = page.goto(base_url + path)
    assert response is not None and response.status == 200
    if logged_in:
        assert "/logg-inn" not in page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    page.screenshot(path=str(artifacts / f"phone-{name}.png"), full_page=True)
    assert width <= inner, f"{path} is {width} px wide on a {inner} px screen: {page.evaluate(WIDE)}"


@pytest.mark.parametrize(("name", "path", "logged_in"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_on_a_desktop(context_for: Any, base_url: str, artifacts: Path,
                                 name: str, path: str, logged_in: bool) -> None:
    page = context_for(DESKTOP, logged_in)
    response = page.goto(base_url + path)
    assert response is not None and response.status == 200
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth")
    page.screenshot(path=str(artifacts / f"desktop-{name}.png"), full_page=True)


def test_the_sources_page_is_not_stretched_on_a_phone(context_for: Any, base_url: str) -> None:
    page = context_for(PHONE, False)
    page.goto(base_url + "/kilder")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 30_000, f"/kilder is {height} px tall on a phone"
