"""Configuration: defaults, and one clear secret-free line for anything missing or invalid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

SECRET = "sk-or-v1-do-not-print-me-0123456789"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


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


def test_missing_required_names_each_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "DISCORD_TOKEN is required" in message
    assert "OPENROUTER_API_KEY is required" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [("REQUEST_TIMEOUT_S", "soon"), ("REQUEST_TIMEOUT_S", "-1"), ("DEV_GUILD_ID", "abc"),
     ("OPENROUTER_BASE_URL", "not a url"), ("LOG_LEVEL", "LOUD"), ("MAX_CONCURRENT_JOBS", "0")],
)
def test_invalid_value_names_the_variable_without_echoing_values(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "token-value-123")
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert SECRET not in message and "token-value-123" not in message


def test_blank_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "   ")
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    with pytest.raises(SettingsError, match="DISCORD_TOKEN"):
        load_settings()


def test_process_exits_with_one_line_and_no_secret(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "OPENROUTER_API_KEY": SECRET, "REQUEST_TIMEOUT_S": "never",
           "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0] and "REQUEST_TIMEOUT_S" in lines[0]
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


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
