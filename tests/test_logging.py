"""Log lines: JSON when asked, one line per job with its numbers, and never a secret or image data."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from bot.job_log import JOB_LOGGER, JobStatus, job_status, log_finished_job, log_job
from bot.logs import JsonFormatter, RedactSecrets, setup_logging
from bot.operations import Operation
from bot.settings import Settings
from tests.kit.fake_discord import APPLICATION_ID
from tests.kit.harness import BotHarness

TOKEN = "MTIzNDU2Nzg5.discord-token-for-log-tests"
KEY = "sk-or-v1-key-for-log-tests-0123"
PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode()
#: Shaped like a real interaction token (base64-ish, with the characters Discord uses).
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEy.OjRhZ2Vfd_XJ-dGVzdA"


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """Let a test call `setup_logging`, then put the root logger back as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"discord_token": TOKEN, "openrouter_api_key": KEY}
    assert Settings(_env_file=None, **base).log_format == "text"  # type: ignore[call-arg]
    assert Settings(_env_file=None, log_format="JSON", **base).log_format == "json"  # type: ignore[call-arg]


def test_json_lines_carry_the_fields_and_no_secret(root_logging: logging.Logger,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(logging.INFO, (TOKEN, KEY), "json")
    logger = logging.getLogger("bot.test")
    logger.info("calling with %s", f"Bearer {KEY}", extra={"guild_id": 42, "note": f"token={TOKEN}"})
    logger.warning("an image %s arrived", PNG_DATA_URL)
    try:
        raise RuntimeError(f"upstream echoed {KEY}")
    except RuntimeError:
        logger.exception("request failed")
    err = capsys.readouterr().err
    assert TOKEN not in err and KEY not in err
    assert PNG_DATA_URL[40:80] not in err, "image data reached the log"
    first, second, third = json_lines(err)
    assert set(first) >= {"time", "level", "logger", "message"}
    assert first["time"].endswith("+00:00")
    assert (first["level"], first["logger"]) == ("INFO", "bot.test")
    assert first["message"] == "calling with Bearer [redacted]"
    assert first["guild_id"] == 42, "extra fields keep their types"
    assert first["note"] == "token=[redacted]"
    assert second["message"] == "an image data:image/png;base64,[omitted] arrived"
    assert third["level"] == "ERROR" and "upstream echoed [redacted]" in third["message"]


def test_text_format_is_unchanged_by_default(root_logging: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(logging.INFO, (TOKEN, KEY), "text")
    logging.getLogger("bot.test").info("plain %s", KEY)
    err = capsys.readouterr().err
    assert "plain [redacted]" in err and KEY not in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err.strip().splitlines()[-1])


def test_json_formatter_on_its_own() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "n=%d", (3,), None)
    record.cost_usd = 0.0039
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "n=3" and entry["cost_usd"] == 0.0039
    assert "args" not in entry and "msg" not in entry, "only the rendered message, not LogRecord internals"


def test_redaction_ignores_short_values_and_keeps_ordinary_text() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "model %s by %s", ("google/x", "abc"), None)
    RedactSecrets(("abc", KEY)).filter(record)
    assert record.getMessage() == "model google/x by abc", "a secret under 8 characters is not a real secret"


# -- interaction tokens ---------------------------------------------------------------------------


def redacted(message: str, *args: object, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("discord.http", logging.DEBUG, __file__, 1, message, args or None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    RedactSecrets((TOKEN, KEY)).filter(record)
    return record


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"PATCH https://discord.com/api/v10/webhooks/{APPLICATION_ID}/{INTERACTION_TOKEN}/messages/@original "
         "with None has returned 200",
         f"PATCH https://discord.com/api/v10/webhooks/{APPLICATION_ID}/[redacted]/messages/@original "
         "with None has returned 200"),
        (f"POST http://127.0.0.1:5000/api/v10/interactions/1234567890/{INTERACTION_TOKEN}/callback has received "
         "{'ok': True}",
         "POST http://127.0.0.1:5000/api/v10/interactions/1234567890/[redacted]/callback has received {'ok': True}"),
        (f"Webhook ID 42 with POST /webhooks/42/{INTERACTION_TOKEN}?wait=true has returned status code 200",
         "Webhook ID 42 with POST /webhooks/42/[redacted]?wait=true has returned status code 200"),
        (f"For Shard ID 0: WebSocket Event: {{'t': 'INTERACTION_CREATE', 'd': {{'id': '7', "
         f"'token': '{INTERACTION_TOKEN}', 'type': 2}}}}",
         "For Shard ID 0: WebSocket Event: {'t': 'INTERACTION_CREATE', 'd': {'id': '7', "
         "'token': '[redacted]', 'type': 2}}"),
    ],
    ids=["webhook-message", "interaction-callback", "webhook-followup", "gateway-event"],
)
def test_interaction_tokens_are_cut_from_urls_and_events(line: str, expected: str) -> None:
    assert redacted("%s", line).getMessage() == expected


def test_interaction_token_in_json_and_dict_extras_and_exceptions(root_logging: logging.Logger,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(logging.DEBUG, (TOKEN, KEY), "json")
    logger = logging.getLogger("bot.test")
    body = json.dumps({"type": 4, "token": INTERACTION_TOKEN,
                       "url": f"https://discord.com/api/v10/webhooks/1/{INTERACTION_TOKEN}"})
    event: dict[str, Any] = {"d": {"id": "7", "token": INTERACTION_TOKEN},
                             "urls": [f"/interactions/7/{INTERACTION_TOKEN}/callback"]}
    logger.debug("sent", extra={"body": body, "event": event, "guild_id": 5})
    try:
        raise RuntimeError(f"POST /interactions/7/{INTERACTION_TOKEN}/callback failed")
    except RuntimeError:
        logger.exception("callback failed")
    err = capsys.readouterr().err
    assert INTERACTION_TOKEN not in err
    first, second = json_lines(err)
    assert json.loads(first["body"])["token"] == "[redacted]"
    assert json.loads(first["body"])["url"] == "https://discord.com/api/v10/webhooks/1/[redacted]"
    assert first["event"] == {"d": {"id": "7", "token": "[redacted]"}, "urls": ["/interactions/7/[redacted]/callback"]}
    assert first["guild_id"] == 5
    assert "POST /interactions/7/[redacted]/callback failed" in second["message"]
    assert event["d"]["token"] == INTERACTION_TOKEN, "the caller's own object is left alone"


def test_token_redaction_keeps_ordinary_text() -> None:
    for text in ("GET /channels/1/webhooks has returned 200", "GET /webhooks/123 has returned 200",
                 "the token refresh took 3 ms", "POST /applications/1/guilds/2/commands"):
        assert redacted("%s", text).getMessage() == text


async def test_debug_logs_of_a_real_command_never_show_the_interaction_token(
    harness: BotHarness, root_logging: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """A slash command at DEBUG, logged through `setup_logging`'s handler: discord.py logs the
    callback and webhook URLs with the token; the handler's lines show `[redacted]` instead."""
    unfiltered = io.StringIO()
    raw = logging.StreamHandler(unfiltered)  # on `discord`: it sees each record before root's handlers mask it
    raw.setFormatter(logging.Formatter("%(name)s %(message)s"))
    discord_logger = logging.getLogger("discord")
    discord_logger.addHandler(raw)
    try:
        setup_logging(logging.DEBUG, harness.settings.secrets(), "text")
        payload = harness.payloads.slash("imagine", prompt="a fox in the snow")
        conversation = await harness.run(payload)
    finally:
        discord_logger.removeHandler(raw)
    assert conversation.callback_types and conversation.requests, "the bot answered the interaction"
    token = payload["token"]
    assert token in unfiltered.getvalue(), "without the filter discord.py's DEBUG lines carry the token"
    logged = capsys.readouterr().err
    assert token not in logged
    assert f"/interactions/{payload['id']}/[redacted]/callback" in logged
    assert f"/webhooks/{APPLICATION_ID}/[redacted]/messages/@original" in logged




def job_record(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    (record,) = [record for record in caplog.records if record.name == JOB_LOGGER]
    return record


def test_log_job_writes_one_line_with_every_field(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    log_job(operation=Operation.IMAGINE, model="google/gemini-2.5-flash-image", status=JobStatus.OK,
            guild_id=111, member_id=222, cost=0.0039, upstream_ms=1234.4, total_ms=1500.6)
    record = job_record(caplog)
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        "job operation=imagine status=ok guild_id=111 member_id=222 model=google/gemini-2.5-flash-image "
        "cost_usd=0.0039 upstream_ms=1234 total_ms=1501"
    )
    entry = json.loads(JsonFormatter().format(record))
    assert {key: entry[key] for key in ("operation", "status", "guild_id", "member_id", "model", "cost_usd",
                                        "upstream_ms", "total_ms")} == {
        "operation": "imagine", "status": "ok", "guild_id": 111, "member_id": 222,
        "model": "google/gemini-2.5-flash-image", "cost_usd": 0.0039, "upstream_ms": 1234, "total_ms": 1501,
    }
    assert "error" not in entry


def test_log_job_marks_unknowns_and_names_the_error_type(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    log_job(operation="describe", model="m/x", status=JobStatus.FAILED, guild_id=None, member_id=5,
            cost=None, upstream_ms=None, total_ms=12, error="RateLimitedError")
    record = job_record(caplog)
    assert "guild_id=- " in record.getMessage() and "cost_usd=- upstream_ms=- " in record.getMessage()
    assert record.getMessage().endswith("error=RateLimitedError")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["guild_id"] is None and entry["cost_usd"] is None and entry["error"] == "RateLimitedError"


def fake_job(*, upstream_started: float | None, cost: float | None, upstream_finished: float | None = None) -> Any:
    """Stands in for `bot.jobs.service.Job`: the attributes `log_finished_job` reads."""
    interaction = SimpleNamespace(guild_id=7, user=SimpleNamespace(id=8))
    return SimpleNamespace(operation=Operation.EDIT, model="m/edit", interaction=interaction,
                           started=time.perf_counter() - 2.0, upstream_started=upstream_started,
                           upstream_finished=upstream_finished, cost=cost)


@pytest.mark.parametrize(
    ("error", "status"),
    [(None, "ok"), (RuntimeError("boom"), "failed"), (asyncio.CancelledError(), "cancelled")],
)
def test_log_finished_job_reads_the_job(caplog: pytest.LogCaptureFixture, error: BaseException | None,
                                        status: str) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    log_finished_job(fake_job(upstream_started=time.perf_counter() - 1.0, cost=0.01), error=error)
    record = job_record(caplog)
    fields: dict[str, Any] = record.__dict__
    assert (fields["operation"], fields["status"], fields["guild_id"], fields["member_id"]) == ("edit", status, 7, 8)
    assert fields["cost_usd"] == 0.01
    assert 1000 <= fields["upstream_ms"] < fields["total_ms"]
    assert fields["total_ms"] >= 2000
    assert fields.get("error") == (type(error).__name__ if error else None)
    assert "boom" not in record.getMessage(), "error messages (which may quote a prompt) stay out"


def test_a_job_cancelled_in_the_queue_has_no_upstream_time(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    log_finished_job(fake_job(upstream_started=None, cost=None), error=asyncio.CancelledError())
    fields: dict[str, Any] = job_record(caplog).__dict__
    assert fields["upstream_ms"] is None and fields["status"] == "cancelled"


def test_upstream_time_ends_when_the_model_answered(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    started = time.perf_counter() - 1.5
    log_finished_job(fake_job(upstream_started=started, upstream_finished=started + 0.25, cost=0.02))
    fields: dict[str, Any] = job_record(caplog).__dict__
    assert fields["upstream_ms"] == 250
    assert fields["total_ms"] >= 2000, "the total still runs to the end of the job"


def test_job_status() -> None:
    assert [job_status(None), job_status(ValueError()), job_status(asyncio.CancelledError())] == [
        "ok", "failed", "cancelled"]


def test_job_lines_through_json_setup_are_secret_free(root_logging: logging.Logger,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(logging.INFO, (TOKEN, KEY), "json")
    log_job(operation="imagine", model=f"weird/{KEY}", status="ok", guild_id=1, member_id=2, cost=0.5,
            upstream_ms=10, total_ms=20)
    (entry,) = [line for line in json_lines(capsys.readouterr().err) if line["logger"] == JOB_LOGGER]
    assert entry["model"] == "weird/[redacted]" and KEY not in json.dumps(entry)
    assert entry["total_ms"] == 20
