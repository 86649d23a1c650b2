"""The Docker files' essentials, checked as text: no Docker engine runs here, so the image is not built.

What must hold: a pinned slim Python base, a non-root user, no secret baked into the image, the
database on a volume, the install driven by pyproject.toml, and compose restarting the bot with `.env`.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "a continuation line runs off the end"
    pairs = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def instructions(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == name]


def env_assignments() -> dict[str, str]:
    values: dict[str, str] = {}
    for arguments in instructions("ENV") + instructions("ARG"):
        for word in shlex.split(arguments):
            key, _, value = word.partition("=")
            values[key] = value
    return values


# -- Dockerfile -----------------------------------------------------------------------------------


def test_base_image_is_slim_python_pinned_by_version() -> None:
    (base,) = instructions("FROM")
    assert re.fullmatch(r"python:3\.1[1-9]\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base), base


def test_runs_as_a_non_root_user() -> None:
    pairs = dockerfile()
    users = [(index, arguments) for index, (instruction, arguments) in enumerate(pairs) if instruction == "USER"]
    assert users, "no USER: the bot would run as root"
    last_index, user = users[-1]
    assert user.split(":")[0] not in ("root", "0")
    entry = next(index for index, (instruction, _) in enumerate(pairs) if instruction == "ENTRYPOINT")
    assert last_index < entry
    assert all(instruction != "RUN" for instruction, _ in pairs[last_index:]), "nothing runs as root after USER"


def test_no_secret_is_baked_in() -> None:
    for name, value in env_assignments().items():
        assert not SECRET_NAME.search(name), f"{name} is set in the image"
        assert not value.startswith(("sk-", "MT")), f"{name} looks like a secret"
    for source in instructions("COPY") + instructions("ADD"):
        assert ".env" not in source, "the .env file must not be copied into the image"
        assert not source.split()[0] == ".", "copy named paths only, so nothing unexpected lands in a layer"


def test_database_lives_on_a_volume() -> None:
    database = env_assignments()["DATABASE_PATH"]
    volumes = [volume for arguments in instructions("VOLUME") for volume in re.findall(r"/[\w/.-]+", arguments)]
    assert any(database.startswith(volume.rstrip("/") + "/") for volume in volumes), (database, volumes)
    assert database == "/data/bot.sqlite3"


def test_installs_from_pyproject_and_starts_the_bot() -> None:
    copied = " ".join(instructions("COPY"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for needed in ("pyproject.toml", project["readme"], "bot", "cogs"):
        assert needed in copied, f"{needed} is needed to install the project but not copied"
    assert any(re.search(r"\bpip install \.(\s|$)", run) for run in instructions("RUN"))
    (entrypoint,) = instructions("ENTRYPOINT")
    assert entrypoint.replace(" ", "") == '["python","-m","bot"]'


# -- .dockerignore --------------------------------------------------------------------------------


def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: anchored at the context root, `**` spans folders."""
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif pattern[index] == "?":
            regex, index = regex + "[^/]", index + 1
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return re.compile(regex)


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins, `!` re-includes, an ignored folder hides its files."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        compiled = docker_pattern(pattern.lstrip("!").strip("/"))
        if any(compiled.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_docker_pattern_semantics() -> None:
    assert docker_pattern("*.pyc").fullmatch("a.pyc") and not docker_pattern("*.pyc").fullmatch("bot/a.pyc")
    assert docker_pattern("**/__pycache__").fullmatch("bot/x/__pycache__")
    assert docker_pattern("**/__pycache__").fullmatch("__pycache__")


@pytest.mark.parametrize("path", [".env", ".env.production", ".venv/bin/python", "data/bot.sqlite3",
                                  "bot.sqlite3-wal", ".git/config", "bot/__pycache__/core.cpython-311.pyc",
                                  "cogs/__pycache__/imagine.cpython-311.pyc"])
def test_dockerignore_keeps_secrets_and_local_state_out(path: str) -> None:
    assert dockerignored(path)


@pytest.mark.parametrize("path", ["pyproject.toml", "README.md", "bot/core.py", "bot/migrations/0001_initial.sql",
                                  "cogs/imagine.py", ".env.example"])
def test_dockerignore_keeps_what_the_build_needs(path: str) -> None:
    assert not dockerignored(path)


# -- compose.yaml ---------------------------------------------------------------------------------


def parse_yaml(text: str) -> Any:
    """The YAML subset compose.yaml uses: block mappings, lists of scalars, plain or quoted scalars."""
    lines = [(len(raw) - len(raw.lstrip()), raw.strip()) for raw in text.splitlines()
             if raw.strip() and not raw.strip().startswith("#")]

    def scalar(value: str) -> str:
        value = value.split(" #", 1)[0].strip()
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value

    def block(index: int, indent: int) -> tuple[Any, int]:
        if lines[index][1].startswith("- "):
            items = []
            while index < len(lines) and lines[index][0] == indent and lines[index][1].startswith("- "):
                items.append(scalar(lines[index][1][2:]))
                index += 1
            return items, index
        mapping: dict[str, Any] = {}
        while index < len(lines) and lines[index][0] == indent:
            key, _, value = lines[index][1].partition(":")
            index += 1
            if value.strip():
                mapping[key] = scalar(value)
            elif index < len(lines) and lines[index][0] > indent:
                mapping[key], index = block(index, lines[index][0])
            else:
                mapping[key] = None
        return mapping, index

    parsed, end = block(0, 0)
    assert end == len(lines), f"unparsed line: {lines[end][1]}"
    return parsed


@pytest.fixture
def compose() -> dict[str, Any]:
    return parse_yaml((ROOT / "compose.yaml").read_text())


@pytest.fixture
def service(compose: dict[str, Any]) -> dict[str, Any]:
    (only,) = compose["services"].values()
    return dict(only)


def test_compose_restarts_the_bot_with_env_file(service: dict[str, Any]) -> None:
    assert service["restart"] == "unless-stopped"
    env_file = service["env_file"]
    assert env_file == ".env" or env_file == [".env"]
    assert service["build"] == "."


def test_compose_keeps_the_database_on_a_named_volume(compose: dict[str, Any], service: dict[str, Any]) -> None:
    mounts = [volume.split(":") for volume in service["volumes"]]
    named = [source for source, target, *_ in mounts if target == "/data"]
    assert named and named[0] in compose["volumes"], "the /data mount must be a named volume"
    assert service["environment"]["DATABASE_PATH"].startswith("/data/")


def test_compose_holds_no_secret_and_gives_jobs_time_to_finish(service: dict[str, Any]) -> None:
    for name in service.get("environment") or {}:
        assert not SECRET_NAME.search(name), f"{name} belongs in .env, not compose.yaml"
    grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
    assert grace, service["stop_grace_period"]
    assert int(grace.group(1)) > Settings.model_fields["shutdown_grace_s"].default


def test_yaml_subset_parser_reads_what_it_claims() -> None:
    parsed = parse_yaml("a:\n  b: 'x'\n  c:\n    - y # note\n    - \"z\"\nd:\n")
    assert parsed == {"a": {"b": "x", "c": ["y", "z"]}, "d": None}
