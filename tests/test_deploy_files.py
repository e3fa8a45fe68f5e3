"""The deployment files name only what exists (issue 19 §3): the Dockerfile, .dockerignore and docs/monitor.service.

No Docker needed: the Dockerfile is read as text. Every COPY source exists and is not ignored by .dockerignore, the
paths agree with the settings' defaults, the HEALTHCHECK's Python compiles and asks a route the web app has, and
every `monitor …` command in the Dockerfile and the systemd unit is a registered subcommand whose options parse.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath

import click
import pytest

from monitor.cli.main import cli
from monitor.core.settings import Settings
from support.paths import REPO

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
UNIT = REPO / "docs" / "monitor.service"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    result = []
    for entry in joined:
        keyword, _, rest = entry.strip().partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def of(keyword: str) -> list[str]:
    return [rest for key, rest in instructions() if key == keyword]


def exec_form(text: str) -> list[str]:
    """A JSON-array ("exec form") argument, as Docker reads it."""
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), text
    return value


def ignored(path: str) -> bool:
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
               for pattern in patterns for prefix in prefixes)


def monitor_invocations(command_line: str) -> list[list[str]]:
    """The `monitor …` (or `…/bin/monitor …`) commands in a shell line, split at && and ;, without `exec`."""
    found = []
    for part in re.split(r"&&|;", command_line):
        words = shlex.split(part)
        if words and words[0] == "exec":
            words = words[1:]
        if words and PurePosixPath(words[0]).name == "monitor":
            found.append(words)
    return found


def check_parses(words: list[str]) -> str:
    """The subcommand must be registered and its arguments must parse (nothing is run); returns its name."""
    assert len(words) >= 2, words
    name, args = words[1], words[2:]
    assert name in cli.commands, f"`monitor {name}` is not a registered subcommand"
    command = cli.commands[name]
    try:
        command.make_context(name, list(args))
    except click.UsageError as exc:
        pytest.fail(f"`{' '.join(words)}`: {exc.format_message()}")
    return name


# -- Dockerfile ------------------------------------------------------------------------------------------------------


def test_the_dockerfile_builds_from_slim_python_and_copies_only_what_exists() -> None:
    assert of("FROM") == ["python:3.11-slim"]
    copies = of("COPY")
    assert copies, "the Dockerfile copies nothing"
    sources: list[str] = []
    for arguments in copies:
        words = [w for w in shlex.split(arguments) if not w.startswith("--")]
        assert len(words) >= 2, arguments
        sources += words[:-1]
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
        assert not ignored(source), f"COPY {source}: .dockerignore leaves it out of the build context"
    # The packages pyproject.toml installs, and the files the default settings read from the working directory.
    for needed in ("pyproject.toml", "monitor", "fetchers", "web", str(Settings().catalogue), "kostra.yaml"):
        assert needed in sources, f"the image lacks {needed}"


def test_dockerignore_keeps_local_state_out() -> None:
    for local in (".git", ".venv", "var", "tests"):
        assert ignored(local), f".dockerignore should leave out {local}"
    for needed in ("monitor/cli/main.py", "web/templates", "monitor/data/baseline.csv", "indicators.yaml"):
        assert not ignored(needed)


def test_the_image_runs_as_a_user_with_var_as_a_volume_where_the_settings_look() -> None:
    workdir = PurePosixPath(of("WORKDIR")[-1])
    users = of("USER")
    assert users and users[-1] not in ("root", "0"), "the container must not run as root"
    assert any("useradd" in run and users[-1] in run.split() for run in of("RUN")), "the USER is never created"
    volumes = [v for entry in of("VOLUME") for v in (exec_form(entry) if entry.startswith("[") else entry.split())]
    var = workdir / "var"
    assert str(var) in volumes
    settings = Settings()
    for default in (settings.db, settings.raw_dir):  # relative defaults land in the volume
        assert not default.is_absolute() and default.parts[0] == "var", default
    assert any("chown" in run and str(var) in run and users[-1] in run for run in of("RUN")), \
        "the volume's directory must belong to the container's user"


def test_the_command_initialises_then_runs_registered_subcommands_on_all_interfaces() -> None:
    (cmd,) = of("CMD")
    words = exec_form(cmd)
    assert words[:2] == ["sh", "-c"], "the command runs two steps through sh -c"
    invocations = monitor_invocations(words[2])
    assert [check_parses(words) for words in invocations] == ["init", "run"]
    run = invocations[-1]
    assert run[run.index("--host") + 1] == "0.0.0.0"
    assert re.search(r"&&\s*exec\s+monitor\s+run\b", words[2]), "exec: SIGTERM from `docker stop` must reach monitor run"
    port = run[run.index("--port") + 1]
    assert of("EXPOSE") == [port]


def test_the_healthcheck_asks_healthz_with_python_and_urllib(tmp_path: Path) -> None:
    (check,) = of("HEALTHCHECK")
    options, _, command = check.partition("CMD")
    assert "--interval" in options
    words = exec_form(command.strip())
    assert words[:2] == ["python", "-c"], "the slim image has no curl: the check runs python -c"
    code = words[2]
    ast.parse(code)
    assert "urllib.request" in code
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", code)
    assert url is not None, code
    (cmd,) = of("CMD")
    run = monitor_invocations(exec_form(cmd)[2])[-1]
    assert url.group(1) == run[run.index("--port") + 1]
    from web import create_app

    app = create_app(Settings(db=tmp_path / "monitor.db", secret_key="x" * 32))
    assert url.group(2) in {rule.rule for rule in app.url_map.iter_rules()}, f"the web app has no {url.group(2)}"


# -- systemd ---------------------------------------------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the keys' case
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_systemd_unit_runs_the_installed_script_as_a_dedicated_user() -> None:
    service = unit()["Service"]
    assert service["User"] not in ("root", "") and service.get("Group")
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/")
    workdir = PurePosixPath(service["WorkingDirectory"])
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    venv = re.search(r"^VENV\s*:?=\s*(\S+)", makefile, re.M)
    assert venv is not None
    script = workdir / venv.group(1) / "bin" / "monitor"  # where `make install` puts the console script
    assert "monitor" in tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    steps = {key: service[key] for key in ("ExecStartPre", "ExecStart")}
    names = []
    for line in steps.values():
        (words,) = monitor_invocations(line)
        assert PurePosixPath(words[0]) == script, f"{words[0]} is not {script}"
        names.append(check_parses(words))
    assert names == ["init", "run"]
    assert str(workdir / "var") in service["ReadWritePaths"].split()
    assert service["KillMode"] == "mixed" and int(service["TimeoutStopSec"]) > 30  # monitor run's own 30 s stop
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_operations_docs_point_to_the_deployment_files() -> None:
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in ("`Dockerfile`", "`.dockerignore`", "`docs/monitor.service`", "MONITOR_BEHIND_TLS", "MONITOR_TRUSTED_PROXIES"):
        assert name in text, f"docs/operations.md does not mention {name}"
    assert Path(REPO / "docs" / "monitor.service").is_file()
