"""Configuration: defaults, and one clear secret-free line per setting that is missing or invalid."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import settings as settings_module
from bot.settings import README_CONFIGURATION, README_DISCORD_APP, Settings, SettingsError, load_settings

SECRET = "sk-or-v1-do-not-print-me-0123456789"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: What pydantic's own messages look like; none of it may reach the person reading the error.
LIBRARY_WORDING = re.compile(r"pydantic|validation|value error|input should|should have|type=|errors\.pydantic",
                             re.IGNORECASE)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "OPENROUTER_", "DEFAULT_", "DATABASE_", "REQUEST_", "DEV_", "LOG_",
                            "MAX_", "RETRY_", "SHUTDOWN_", "SHARD_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "token-value-123")
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    settings = load_settings()
    assert settings.openrouter_base == "https://openrouter.ai/api/v1"
    assert settings.discord_api_base is None
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.default_image_model == "google/gemini-2.5-flash-image"
    assert settings.default_edit_model == "google/gemini-2.5-flash-image"
    assert settings.default_vision_model == "google/gemini-2.5-flash"
    assert settings.request_timeout_s == 180
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert SECRET not in repr(settings)


def test_reads_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN=abc123456\nOPENROUTER_API_KEY={SECRET}\nLOG_LEVEL=debug\n"
                                   "DEV_GUILD_ID=\n")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.dev_guild_id is None
    assert settings.openrouter_api_key.get_secret_value() == SECRET


def problems(**variables: str | None) -> SettingsError:
    """The error `load_settings` raises with these variables set (and the two secrets, unless given)."""
    defaults = {"DISCORD_TOKEN": "token-value-123", "OPENROUTER_API_KEY": SECRET}
    environment = pytest.MonkeyPatch()
    try:
        for name, value in {**defaults, **variables}.items():
            if value is None:
                environment.delenv(name, raising=False)
            else:
                environment.setenv(name, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
    finally:
        environment.undo()
    return caught.value


def by_variable(error: SettingsError) -> dict[str, str]:
    """Each line of the error, keyed by the variable it starts with."""
    lines = {line.split(" ", 1)[0]: line for line in error.lines}
    assert len(lines) == len(error.lines), "one line per variable"
    return lines


def assert_human(text: str, *values: str) -> None:
    assert not LIBRARY_WORDING.search(text), text
    for value in (SECRET, "token-value-123", *values):
        assert value not in text, f"{value!r} was echoed"


def test_missing_secrets_are_named_with_where_to_get_them() -> None:
    error = problems(DISCORD_TOKEN=None, OPENROUTER_API_KEY=None)
    assert error.headline == "the bot's configuration is incomplete (2 settings):"
    lines = by_variable(error)
    assert list(lines) == ["DISCORD_TOKEN", "OPENROUTER_API_KEY"]
    assert lines["DISCORD_TOKEN"].startswith("DISCORD_TOKEN is missing: set it in .env to your bot's token from "
                                             "the Discord developer portal")
    assert lines["DISCORD_TOKEN"].endswith(f'(README: "{README_DISCORD_APP}")')
    assert lines["OPENROUTER_API_KEY"].startswith("OPENROUTER_API_KEY is missing: set it in .env to an OpenRouter "
                                                  "API key from https://openrouter.ai/settings/keys")
    assert lines["OPENROUTER_API_KEY"].endswith(f'(README: "{README_CONFIGURATION}")')
    assert str(error) == "\n".join([error.headline, *(f"  {line}" for line in error.lines)])
    assert_human(str(error))


@pytest.mark.parametrize(("value", "problem"), [("", "is missing"), ("   ", "is blank")], ids=["empty", "blank"])
def test_empty_and_blank_secrets_count_as_not_filled_in(value: str, problem: str) -> None:
    """`cp .env.example .env` leaves `DISCORD_TOKEN=`: an empty value, which is the fresh-clone case."""
    error = problems(DISCORD_TOKEN=value)
    assert by_variable(error)["DISCORD_TOKEN"].startswith(f"DISCORD_TOKEN {problem}: set it in .env to ")
    assert error.headline == "the bot's configuration is incomplete (1 setting):"
    assert_human(str(error))


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        # not a number where one is expected
        ({"REQUEST_TIMEOUT_S": "soon"},
         {"REQUEST_TIMEOUT_S": "REQUEST_TIMEOUT_S is not a number: set it to a number of seconds above 0 and at most "
                               "3600, or leave it out for the default, 180"}),
        ({"MAX_CONCURRENT_JOBS": "1.5"},
         {"MAX_CONCURRENT_JOBS": "MAX_CONCURRENT_JOBS is not a whole number: set it to a whole number from 1 to "
                                 "1000, or leave it out for the default, 8"}),
        ({"DEV_GUILD_ID": "abc"}, {"DEV_GUILD_ID": "DEV_GUILD_ID is not a whole number: set it to your test "
                                                   "server's id"}),
        # out of range
        ({"REQUEST_TIMEOUT_S": "-1", "RETRY_MAX_ATTEMPTS": "99"},
         {"REQUEST_TIMEOUT_S": "REQUEST_TIMEOUT_S is too small: set it to a number of seconds above 0",
          "RETRY_MAX_ATTEMPTS": "RETRY_MAX_ATTEMPTS is too large: set it to a whole number from 1 to 10, or leave "
                                "it out for the default, 3"}),
        ({"SHARD_COUNT": "0"}, {"SHARD_COUNT": "SHARD_COUNT is too small: set it to the total number of shards"}),
        # bad choices
        ({"LOG_LEVEL": "LOUD", "LOG_FORMAT": "xml", "SHARDING": "sometimes"},
         {"LOG_LEVEL": "LOG_LEVEL is not one of the choices: set it to CRITICAL, ERROR, WARNING, INFO or DEBUG, or "
                       "leave it out for the default, INFO",
          "LOG_FORMAT": "LOG_FORMAT is not one of the choices: set it to text or json, or leave it out for the "
                        "default, text",
          "SHARDING": "SHARDING is not one of the choices: set it to off or auto, or leave it out for the "
                      "default, off"}),
        # bad URLs
        ({"OPENROUTER_BASE_URL": "not a url", "DISCORD_API_BASE_URL": "ftp://proxy.example/api"},
         {"OPENROUTER_BASE_URL": "OPENROUTER_BASE_URL is not a valid URL: set it to an http(s) URL such as "
                                 "https://openrouter.ai/api/v1",
          "DISCORD_API_BASE_URL": "DISCORD_API_BASE_URL is not an http or https URL: set it to the http(s) URL of "
                                  "Discord's REST API"}),
        # SHARD_IDS that do not fit SHARD_COUNT
        ({"SHARD_IDS": "0,1"}, {"SHARD_IDS": "SHARD_IDS is set but SHARD_COUNT is not: set SHARD_COUNT to the "
                                             "total number of shards"}),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"},
         {"SHARD_IDS": "SHARD_IDS lists a shard of 2 or more, but SHARD_COUNT=2 numbers them 0 to 1: set "
                       "SHARD_COUNT"}),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, {"SHARD_IDS": "SHARD_IDS lists a shard twice: "}),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "zero"}, {"SHARD_IDS": "SHARD_IDS is not a list of shard numbers: "}),
        # an empty model id
        ({"DEFAULT_IMAGE_MODEL": ""}, {"DEFAULT_IMAGE_MODEL": "DEFAULT_IMAGE_MODEL is too short: set it to an "
                                                              "OpenRouter model id"}),
    ],
    ids=["not-a-number", "not-a-whole-number", "bad-guild-id", "out-of-range", "shard-count-zero", "bad-choices",
         "bad-urls", "ids-without-count", "ids-beyond-count", "ids-twice", "ids-not-numbers", "empty-model"],
)
def test_each_invalid_setting_gets_its_own_line_saying_what_to_set(
    variables: dict[str, str], expected: dict[str, str]
) -> None:
    error = problems(**variables)
    lines = by_variable(error)
    assert list(lines) == list(expected)
    for variable, start in expected.items():
        assert lines[variable].startswith(start), lines[variable]
        assert lines[variable].endswith(f'(README: "{README_CONFIGURATION}")'), lines[variable]
    assert error.headline.startswith("the bot's configuration needs fixing (")
    assert_human(str(error), *(value for value in variables.values() if len(value) > 3))


def test_a_secret_like_value_in_a_wrong_place_is_not_echoed() -> None:
    bogus = "sk-or-v1-pasted-into-the-wrong-line-0000"
    error = problems(REQUEST_TIMEOUT_S=bogus, DEV_GUILD_ID=bogus, LOG_LEVEL=bogus, OPENROUTER_BASE_URL=bogus)
    assert set(by_variable(error)) == {"REQUEST_TIMEOUT_S", "DEV_GUILD_ID", "LOG_LEVEL", "OPENROUTER_BASE_URL"}
    assert_human(str(error), bogus)


def test_every_setting_has_advice_that_names_a_readme_section() -> None:
    headings = {line.lstrip("#").strip() for line in (PROJECT_ROOT / "README.md").read_text().splitlines()
                if line.startswith("#")}
    assert {README_DISCORD_APP, README_CONFIGURATION} <= headings
    for name in Settings.model_fields:
        advice = settings_module._advice(name)
        section = re.fullmatch(r'.+ \(README: "(.+)"\)', advice)
        assert section and section.group(1) in headings, (name, advice)
        if name not in ("app_name", "app_url"):  # internal, not in .env.example
            assert "a valid value" not in advice, f"{name.upper()} has no advice of its own"


def run_bot_process(cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot` with an empty environment apart from PATH and these variables."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), **variables}
    return subprocess.run([sys.executable, "-m", "bot"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)


def test_fresh_clone_run_command_says_which_settings_to_fill_in(tmp_path: Path) -> None:
    """The README's run command before `.env` is filled in: `.env` is a copy of `.env.example`."""
    shutil.copy(PROJECT_ROOT / ".env.example", tmp_path / ".env")
    result = run_bot_process(tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: the bot's configuration is incomplete (2 settings):",
        "  DISCORD_TOKEN is missing: set it in .env to your bot's token from the Discord developer portal, your "
        f'application -> Bot -> Reset Token (README: "{README_DISCORD_APP}")',
        "  OPENROUTER_API_KEY is missing: set it in .env to an OpenRouter API key from "
        f'https://openrouter.ai/settings/keys (README: "{README_CONFIGURATION}")',
    ]
    assert_human(result.stderr)


def test_process_prints_one_line_per_setting_and_no_value(tmp_path: Path) -> None:
    bogus = "sk-or-v1-bogus-secret-looking-value-42"
    result = run_bot_process(tmp_path, OPENROUTER_API_KEY=SECRET, REQUEST_TIMEOUT_S=bogus, LOG_LEVEL="LOUD",
                             SHARD_COUNT="2", SHARD_IDS="5")
    assert result.returncode == 2
    first, *lines = result.stderr.strip().splitlines()
    assert first == "error: the bot's configuration needs fixing (4 settings):"
    assert [line.split()[0] for line in lines] == ["DISCORD_TOKEN", "REQUEST_TIMEOUT_S", "LOG_LEVEL", "SHARD_IDS"]
    assert all(line.startswith("  ") and ": set " in line and "(README: " in line for line in lines), lines
    assert lines[0].startswith("  DISCORD_TOKEN is missing: ")
    assert lines[1].startswith("  REQUEST_TIMEOUT_S is not a number: ")
    assert "Traceback" not in result.stderr
    assert_human(result.stderr + result.stdout, bogus, "LOUD")


def test_settings_can_be_built_without_environment() -> None:
    settings = Settings(_env_file=None, discord_token="x" * 10, openrouter_api_key=SECRET)  # type: ignore[call-arg]
    assert settings.secrets() == ("x" * 10, SECRET)


def test_env_example_and_readme_document_every_setting() -> None:
    documented = {line.split("=", 1)[0] for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
                  if line and not line.startswith("#") and "=" in line}
    readme = (PROJECT_ROOT / "README.md").read_text()
    internal = {"APP_NAME", "APP_URL"}
    for name in Settings.model_fields:
        variable = name.upper()
        if variable in internal:
            continue
        assert variable in documented, f"{variable} is missing from .env.example"
        assert f"| `{variable}` |" in readme, f"{variable} is missing from the README's settings table"
