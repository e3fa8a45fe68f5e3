"""Issue 17 §16: a KOSTRA year without figures says so instead of showing a table of blanks."""

from __future__ import annotations

from flask import Flask

from test_kostra_web import app, kostra  # noqa: F401  (the fixtures: the baseline with the printed KOSTRA tables)


def test_an_empty_year_says_so(app: Flask) -> None:  # noqa: F811
    client = app.test_client()
    empty = client.get("/kostra/oppvekst?ar=2030").get_data(as_text=True)
    assert "Ingen KOSTRA-tall for 2030." in empty
    printed = client.get("/kostra/oppvekst?ar=2022").get_data(as_text=True)
    assert "Ingen KOSTRA-tall for" not in printed and "Asker har ingen KOSTRA-tall" not in printed
