from __future__ import annotations

import pytest

from monitor.catalogue.indicators import Derive
from monitor.sources.derive import Point, evaluate


def expr(data: object) -> Derive:
    return Derive.model_validate(data)


POPULATION = {"2018": Point(94_000.0), "2019": Point(94_752.0), "2020": Point(95_226.0), "2021": Point(96_369.0)}


def test_growth_is_percent_over_the_previous_year() -> None:
    result = evaluate(expr({"op": "growth", "of": ["pop"]}), {"pop": POPULATION})
    assert list(result) == ["2019", "2020", "2021"]
    assert round(result["2019"].value or 0, 1) == 0.8
    assert round(result["2020"].value or 0, 1) == 0.5
    assert round(result["2021"].value or 0, 1) == 1.2


def test_ratio_of_changes() -> None:
    jobs = {"2018": Point(70_000.0), "2019": Point(70_353.0)}
    pop = {"2018": Point(94_000.0), "2019": Point(94_752.0)}
    tree = expr({"op": "ratio", "factor": 100, "of": [{"op": "change", "of": ["jobs"]}, {"op": "change", "of": ["pop"]}]})
    result = evaluate(tree, {"jobs": jobs, "pop": pop})
    assert list(result) == ["2019"] and round(result["2019"].value or 0) == 47


def test_share_of_a_sum() -> None:
    series = {"flats": {"2022": Point(533.0)}, "terraced": {"2022": Point(117.0)}, "all": {"2022": Point(833.0)}}
    result = evaluate(expr({"op": "share", "of": [{"op": "sum", "of": ["flats", "terraced"]}, "all"]}), series)
    assert round(result["2022"].value or 0) == 78


def test_a_status_carries_through_and_is_never_zero() -> None:
    series = {"a": {"2021": Point(None, ":"), "2022": Point(4.0)}, "b": {"2021": Point(2.0), "2022": Point(2.0)}}
    result = evaluate(expr({"op": "ratio", "of": ["a", "b"]}), series)
    assert result == {"2021": Point(None, ":"), "2022": Point(2.0)}
    growth = evaluate(expr({"op": "growth", "of": ["a"]}), series)
    assert growth == {"2022": Point(None, ":")}


def test_division_by_zero_is_not_possible_to_state() -> None:
    series = {"a": {"2022": Point(1.0)}, "b": {"2022": Point(0.0)}}
    assert evaluate(expr({"op": "share", "of": ["a", "b"]}), series) == {"2022": Point(None, ".")}


def test_periods_missing_from_an_input_are_left_out() -> None:
    series = {"a": {"2021": Point(1.0), "2022": Point(2.0)}, "b": {"2022": Point(4.0)}}
    assert evaluate(expr({"op": "sum", "of": ["a", "b"]}), series) == {"2022": Point(6.0)}


def test_scale() -> None:
    assert evaluate(expr({"op": "scale", "factor": 0.001, "of": ["mwh"]}), {"mwh": {"2022": Point(664_000.0)}}) == {
        "2022": Point(664.0)
    }


@pytest.mark.parametrize("data,message", [
    ({"op": "growth", "of": ["a", "b"]}, "`growth` tar 1 argument(er), fikk 2"),
    ({"op": "sum", "of": ["a"]}, "`sum` tar minst 2 argumenter"),
    ({"op": "eval", "of": ["a"]}, "Input should be"),
])
def test_bad_expressions_are_rejected(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        expr(data)
