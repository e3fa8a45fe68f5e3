"""The error tree: every MonitorError is defined in monitor.core.errors and says how the web and the CLI report it."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask import Flask

from support.paths import FIXTURES, REPO
from monitor.cli.main import MonitorGroup
from monitor.core import errors
from monitor.core.errors import MailError, MonitorError, ProblemListError
from monitor.core.settings import Settings
from web import create_app
from web import errors as web_errors


def _modules() -> list[str]:
    names = []
    for package in ("monitor", "fetchers", "web"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _tree(cls: type[MonitorError]) -> list[type[MonitorError]]:
    return [cls] + [sub for child in cls.__subclasses__() for sub in _tree(child)]


def _all_errors() -> list[type[MonitorError]]:
    for name in _modules():
        importlib.import_module(name)
    found = {cls for cls in _tree(MonitorError) if cls.__module__.split(".")[0] in {"monitor", "fetchers", "web"}}
    return sorted(found, key=lambda cls: cls.__name__)


ERRORS = _all_errors()


def _make(cls: type[MonitorError]) -> MonitorError:
    if issubclass(cls, ProblemListError):
        return cls(["a.yaml:3: første problem", "a.yaml:7: andre problem"])
    if issubclass(cls, MailError):
        return cls("kom ikke fram", connection=False)
    return cls(f"noe gikk galt ({cls.__name__})")


def test_every_monitor_error_is_defined_in_the_errors_module() -> None:
    assert len(ERRORS) >= 13
    outside = [f"{cls.__module__}.{cls.__qualname__}" for cls in ERRORS if cls.__module__ != errors.__name__]
    assert outside == []


def test_no_module_defines_an_error_class_on_the_tree_outside_it() -> None:
    """Also catches a subclass in a module nothing imports: any class whose base is named like a tree class."""
    names = {cls.__name__ for cls in ERRORS}
    offenders = []
    for path in [p for package in ("monitor", "fetchers", "web") for p in sorted((REPO / package).rglob("*.py"))]:
        if path == Path(inspect.getfile(errors)):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases}
                if bases & names:
                    offenders.append(f"{path.relative_to(REPO)}: {node.name}")
    assert offenders == []


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_each_error_declares_its_status_and_exit_code(cls: type[MonitorError]) -> None:
    assert "http_status" in vars(cls) and "exit_code" in vars(cls), cls.__name__
    assert isinstance(cls.http_status, int) and 400 <= cls.http_status <= 599
    assert isinstance(cls.exit_code, int) and cls.exit_code > 0
    # The values as the boundaries have always reported them: every error a 500 page; problem lists exit 2, the rest 1.
    assert cls.http_status == 500
    assert cls.exit_code == (2 if issubclass(cls, ProblemListError) else 1)


def test_the_docstring_tree_names_every_error() -> None:
    assert errors.__doc__ is not None
    for cls in ERRORS:
        assert f" {cls.__name__} " in errors.__doc__, cls.__name__


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    settings = Settings(db=tmp_path_factory.mktemp("errors") / "monitor.db",  # type: ignore[call-arg]
                        catalogue=FIXTURES / "catalogue" / "small.yaml", secret_key="errors-test", read_open=True)
    app = create_app(settings, testing=True)
    by_name = {cls.__name__: cls for cls in ERRORS}

    def boom(name: str) -> str:
        raise _make(by_name[name])

    app.add_url_rule("/test-feil/<name>", "test_error_page", boom)
    app.add_url_rule("/api/test-feil/<name>", "test_error_api", boom)
    return app


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_the_web_answers_with_the_errors_status(app: Flask, cls: type[MonitorError]) -> None:
    page = app.test_client().get(f"/test-feil/{cls.__name__}")
    assert page.status_code == cls.http_status
    assert "Noe gikk galt" in page.get_data(as_text=True)
    api = app.test_client().get(f"/api/test-feil/{cls.__name__}")
    assert api.status_code == cls.http_status
    assert api.get_json() == {"error": "Noe gikk galt", "detail": str(_make(cls)), "status": cls.http_status}


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_the_cli_exits_with_the_errors_code(cls: type[MonitorError]) -> None:
    @click.group(cls=MonitorGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise _make(cls)

    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == cls.exit_code
    assert "Traceback" not in result.output
    if issubclass(cls, ProblemListError):
        assert "a.yaml:3: første problem" in result.output and "2 feil funnet; ingenting ble endret." in result.output
    else:
        assert f"Feil: {_make(cls)}" in result.output


def test_the_boundaries_read_the_attributes() -> None:
    """A subclass with other values is reported with them: the mapping lives on the class, not in the boundary."""

    class Odd(MonitorError):
        http_status = 503
        exit_code = 7

    @click.group(cls=MonitorGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise Odd("annerledes")

    assert CliRunner().invoke(group, ["boom"]).exit_code == 7
    flask_app = Flask(__name__)
    web_errors.init_app(flask_app)

    @flask_app.get("/api/odd")
    def odd() -> str:
        raise Odd("annerledes")

    assert flask_app.test_client().get("/api/odd").status_code == 503
