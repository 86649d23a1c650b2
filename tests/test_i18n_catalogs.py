"""The catalogs ship complete and well-formed, the template is current, and the check catches what it is for.

The CI check of issue 17: every text has a translation in every shipped locale, with the same named
placeholders, every plural form the locale's rules ask for, and command names Discord accepts. The
check (`bot.i18n.check.catalog_problems`) is run on the real catalogs, and on catalogs broken on
purpose, so a check that silently stopped checking would fail too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from bot.i18n import SHIPPED
from bot.i18n.check import catalog_problems, fields, shipped_catalog, template
from bot.i18n.commands import CommandTranslator, loaded_tree, name_problem, valid_name

ROOT = Path(__file__).resolve().parents[1]
#: Discord's cap on the characters of one command's names, descriptions and choice values, options and
#: subcommands included; of a localized field only its longest version (the default included) counts.
COMMAND_PAYLOAD_LIMIT = 4000


# -- the shipped catalogs ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", sorted(SHIPPED))
def test_every_shipped_locale_translates_every_text_with_the_same_placeholders(locale: str) -> None:
    problems = catalog_problems(shipped_catalog(locale), template())
    assert not problems, f"{locale}: {len(problems)} problems:\n" + "\n".join(problems[:40])


def test_the_template_holds_exactly_what_extraction_finds_now() -> None:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map):
        msgid = message[0] if isinstance(message, tuple) else message
        extracted.add((context, msgid))
    committed = {(message.context, message.id[0] if isinstance(message.id, tuple) else message.id)
                 for message in template() if message.id}
    assert extracted - committed == set(), "texts missing from bot/locales/bot.pot: extract again (bot/locales/README)"
    assert committed - extracted == set(), "bot/locales/bot.pot holds texts the code no longer has: extract again"


# -- the check itself -----------------------------------------------------------------------------


def _complete_catalog(locale: str = "de") -> Catalog:
    """A catalog that translates every template entry (each text marked, fields kept): the check passes it."""
    catalog = Catalog(locale=locale)
    for message in template():
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            string: Any = tuple(f"«{message.id[-1]}»" for _ in range(catalog.num_plurals))
        elif message.context in ("command_name", "group_name", "parameter_name"):
            string = message.id + "-x"
        elif message.context is not None:
            string = message.id[:90] + " ✓"
        else:
            string = f"«{message.id}»"
        catalog.add(message.id, string, context=message.context)
    return catalog


def _entry(catalog: Catalog, msgid: str, context: str | None = None) -> Any:
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key == msgid and message.context == context:
            return message
    raise LookupError(msgid)


def test_the_check_passes_a_complete_catalog() -> None:
    assert catalog_problems(_complete_catalog(), template()) == []


def test_the_check_fails_on_a_missing_translation() -> None:
    catalog = _complete_catalog()
    _entry(catalog, "Working on it…").string = ""
    catalog.delete("Budget reached")
    problems = catalog_problems(catalog, template())
    assert sorted(problems) == ["'Budget reached': not in the catalog", "'Working on it…': not translated"]


def test_the_check_fails_on_a_mismatched_or_broken_placeholder() -> None:
    catalog = _complete_catalog()
    queued = "Queued: position {position}. Your job starts when the ones ahead of it finish."
    _entry(catalog, queued).string = "In der Warteschlange: Platz {platz}."
    slow = "You can use this again in {retry_after:.0f} s."
    _entry(catalog, slow).string = "Wieder in {retry_after} s."  # the format spec was dropped
    cancelled = "Job #{job_id} is cancelled. It left the queue before it started. {cost}."
    _entry(catalog, cancelled).string = "Auftrag #{job_id abgebrochen."  # not a template at all
    problems = catalog_problems(catalog, template())
    assert len(problems) == 3, problems
    assert any("{platz}" in problem and "{position}" in problem for problem in problems)
    assert any("{retry_after:.0f}" in problem for problem in problems)
    assert any("not a valid template" in problem for problem in problems)


def test_the_check_fails_on_missing_plural_forms_and_fuzzy_guesses() -> None:
    catalog = _complete_catalog("fr")  # three plural forms in French
    plural = next(message for message in catalog if isinstance(message.id, tuple))
    plural.string = plural.string[:2]
    fuzzy = _entry(catalog, "Budget reached")
    fuzzy.flags.add("fuzzy")
    problems = catalog_problems(catalog, template())
    assert len(problems) == 2, problems
    assert any("2 plural forms, the catalog's rules need 3" in problem for problem in problems)
    assert any("fuzzy" in problem for problem in problems)


def test_the_check_fails_on_a_command_name_discord_refuses() -> None:
    catalog = _complete_catalog()
    _entry(catalog, "imagine", "command_name").string = "Bild erstellen"
    _entry(catalog, "prompt", "parameter_name").string = "x" * 33
    _entry(catalog, "Create an image from a text prompt.", "command_description").string = "y" * 101
    problems = catalog_problems(catalog, template())
    assert len(problems) == 3, problems


def test_discords_name_rule() -> None:
    assert valid_name("bild-erstellen") and valid_name("画像生成") and valid_name("créer_image")
    assert valid_name("गणना") and valid_name("ภาพ")  # Devanagari and Thai vowel signs are allowed
    assert not valid_name("bild erstellen") and not valid_name("") and not valid_name("a" * 33)
    assert not valid_name("imagine!")
    assert name_problem("command_name", "Imagine") == "names must be lower case"
    assert name_problem("menu_name", "Bild bearbeiten") is None


def test_placeholders_are_read_with_their_format_specs() -> None:
    assert fields("{a} and {b:.1f} {c!r}") == {("a", None, ""), ("b", None, ".1f"), ("c", "r", "")}


# -- the synced commands, per locale ----------------------------------------------------------------


def _translated_payload() -> list[dict[str, Any]]:
    async def build() -> list[dict[str, Any]]:
        tree = await loaded_tree()
        translator = CommandTranslator()
        return [await command.get_translated_payload(tree, translator) for command in tree.get_commands()]

    return asyncio.run(build())


PAYLOAD = _translated_payload()


def _in_locale(item: dict[str, Any], key: str, locale: str) -> str:
    return str((item.get(f"{key}_localizations") or {}).get(locale, item.get(key, "")))


def _walk(command: dict[str, Any]) -> list[dict[str, Any]]:
    found = [command]
    for option in command.get("options", []):
        found += _walk(option)
    return found


@pytest.mark.parametrize("locale", sorted(SHIPPED))
def test_every_command_option_and_choice_is_localized_within_discords_rules(locale: str) -> None:
    for command in PAYLOAD:
        slash = command.get("type", 1) == 1
        assert locale in (command.get("name_localizations") or {}), f"/{command['name']} has no {locale} name"
        for item in _walk(command):
            name, description = _in_locale(item, "name", locale), _in_locale(item, "description", locale)
            if item is not command or slash:
                assert valid_name(name) and name == name.lower(), f"{locale}: {name!r} ({item['name']})"
                assert locale in (item.get("description_localizations") or {}), f"{locale}: {item['name']}"
            assert len(description) <= 100
            names = [_in_locale(option, "name", locale) for option in item.get("options", [])]
            assert len(names) == len(set(names)), f"{locale}: two options of {item['name']} share a name: {names}"
            for choice in item.get("choices", []):
                assert locale in (choice.get("name_localizations") or {}), f"{locale}: choice {choice['name']}"
                choice_name = _in_locale(choice, "name", locale)
                assert 1 <= len(choice_name) <= 100


def _longest(item: dict[str, Any], key: str) -> int:
    versions = [str(item.get(key, "")), *(item.get(f"{key}_localizations") or {}).values()]
    return max(len(text) for text in versions)


def _discord_size(command: dict[str, Any]) -> int:
    """A command's size as Discord counts it against `COMMAND_PAYLOAD_LIMIT`."""
    size = 0
    for item in _walk(command):
        size += _longest(item, "name") + _longest(item, "description")
        size += sum(_longest(choice, "name") + len(str(choice["value"])) for choice in item.get("choices", []))
    return size


@pytest.mark.parametrize("name", [command["name"] for command in PAYLOAD])
def test_every_command_with_its_translations_stays_within_discords_size_limit(name: str) -> None:
    (command,) = [command for command in PAYLOAD if command["name"] == name]
    assert _discord_size(command) <= COMMAND_PAYLOAD_LIMIT


def test_the_size_counts_only_the_longest_version_of_each_field() -> None:
    command = {"name": "abc", "name_localizations": {"de": "abcdef"}, "description": "1234",
               "description_localizations": {"fr": "12"},
               "options": [{"name": "x", "description": "y", "choices": [{"name": "c", "value": "vv",
                                                                           "name_localizations": {"ja": "ccc"}}]}]}
    assert _discord_size(command) == 6 + 4 + 1 + 1 + 3 + 2


def test_only_the_shipped_locales_are_localized_and_english_names_stay_the_default() -> None:
    for command in PAYLOAD:
        for item in _walk(command):
            assert set(item.get("name_localizations") or {}) <= set(SHIPPED)
    names = sorted(command["name"] for command in PAYLOAD)
    assert "imagine" in names and "Describe image" in names


# -- loading and syncing --------------------------------------------------------------------------


def test_a_catalog_without_its_mo_is_compiled_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.i18n

    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "bot.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        'msgid "Working on it…"\nmsgstr "Wird erledigt…"\n\n'
        'msgid "{count} image"\nmsgid_plural "{count} images"\nmsgstr[0] "{count} Bild"\nmsgstr[1] "{count} Bilder"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(bot.i18n, "LOCALES_DIR", tmp_path)
    bot.i18n.catalog.cache_clear()
    try:
        with bot.i18n.using("de"):
            assert bot.i18n.gettext("Working on it…") == "Wird erledigt…"
            assert bot.i18n.ngettext("{count} image", "{count} images", 3) == "{count} Bilder"
            assert bot.i18n.gettext("Not in the catalog") == "Not in the catalog"
        assert not (folder / "bot.mo").exists(), "compiled in memory, not written into the package"
    finally:
        bot.i18n.catalog.cache_clear()


async def test_the_sync_hash_changes_with_a_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    import gettext
    import io

    from babel.messages.mofile import write_mo

    import bot.i18n.commands
    from bot.command_sync import command_schema_hash

    tree = await loaded_tree()
    await tree.set_translator(CommandTranslator())
    holder = type("Holder", (), {"tree": tree})()
    before = await command_schema_hash(holder)  # type: ignore[arg-type]

    german = shipped_catalog("de")
    _entry(german, "imagine", "command_name").string = "bild-malen"
    compiled = io.BytesIO()
    write_mo(compiled, german)
    compiled.seek(0)
    changed = gettext.GNUTranslations(compiled)
    real = bot.i18n.commands.catalog
    monkeypatch.setattr(bot.i18n.commands, "catalog", lambda locale: changed if locale == "de" else real(locale))
    after = await command_schema_hash(holder)  # type: ignore[arg-type]
    assert before != after, "a changed translation must be synced"
    monkeypatch.setattr(bot.i18n.commands, "catalog", real)
    assert await command_schema_hash(holder) == before  # type: ignore[arg-type]
