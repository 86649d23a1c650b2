"""What is wrong with a catalog: missing translations, mismatched placeholders, names Discord refuses.

`catalog_problems` compares a locale's `.po` with the template (`bot.pot`) and lists, in words, every
entry that is not ready to ship. `tests/test_i18n_catalogs.py` runs it for every shipped locale (so CI
fails on an incomplete catalog), and also on deliberately broken catalogs, so the check itself is
known to catch what it is for. Run it by hand with `python -m bot.i18n.check`.

A placeholder is a `str.format` field: its name, conversion and format spec must be the same in
the translation as in the English text (`{retry_after:.0f}` stays `{retry_after:.0f}`), since the code
fills the fields by name. A plural form may leave out `{count}` ("ein Bild"), never another field.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, SHIPPED
from bot.i18n.commands import name_problem

__all__ = ["catalog_problems", "fields", "load", "shipped_catalog", "template"]

#: A `str.format` field as the code fills it: (name, conversion, format spec).
Field = tuple[str, str | None, str]


def fields(text: str) -> set[Field]:
    """The `str.format` fields of `text`; raises ValueError for a malformed template (a lone brace)."""
    found: set[Field] = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            found.add((name, conversion, spec or ""))
    return found


def load(path: Path, locale: str | None = None) -> Catalog:
    """A `.po` or `.pot` file as Babel reads it."""
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def template() -> Catalog:
    """The committed template, `bot/locales/bot.pot`."""
    return load(LOCALES_DIR / "bot.pot")


def shipped_catalog(locale: str) -> Catalog:
    """A shipped locale's `.po` (by Discord's code, `es-ES`)."""
    directory = SHIPPED[locale]
    return load(LOCALES_DIR / directory / "LC_MESSAGES" / "bot.po", locale=directory)


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return message.context, str(msgid)


def _describe(message: Message) -> str:
    context, msgid = _key(message)
    shown = msgid if len(msgid) <= 70 else msgid[:67] + "..."
    return f"[{context}] {shown!r}" if context else repr(shown)


def catalog_problems(catalog: Catalog, reference: Catalog) -> list[str]:
    """Every reason `catalog` is not ready to ship against the template `reference` (empty: ready)."""
    problems: list[str] = []
    translated = {_key(message): message for message in catalog if message.id}
    forms = catalog.num_plurals
    for wanted in reference:
        if not wanted.id:
            continue
        message = translated.get(_key(wanted))
        if message is None:
            problems.append(f"{_describe(wanted)}: not in the catalog")
            continue
        problems += _message_problems(message, wanted, forms)
    return problems


def _message_problems(message: Message, wanted: Message, forms: int) -> list[str]:
    where = _describe(wanted)
    if message.fuzzy:
        return [f"{where}: marked fuzzy (a guess, not a translation)"]
    plural = isinstance(wanted.id, tuple | list)
    raw = message.string if isinstance(message.string, tuple | list) else [message.string]
    strings = [str(text or "") for text in raw]
    if plural and len(strings) < forms:
        return [f"{where}: {len(strings)} plural forms, the catalog's rules need {forms}"]
    if any(not text for text in strings):
        return [f"{where}: not translated"]
    english = str(wanted.id[-1] if plural else wanted.id)
    try:
        expected = fields(english)
    except ValueError:
        return [f"{where}: the English text is not a valid template"]
    problems = []
    for text in strings:
        try:
            found = fields(text)
        except ValueError as error:
            problems.append(f"{where}: the translation is not a valid template ({error})")
            continue
        allowed_missing = {field for field in expected if field[0] == "count"} if plural else set()
        if not (expected - allowed_missing) <= found <= expected:
            problems.append(
                f"{where}: placeholders differ: {_shown(found)} in the translation, {_shown(expected)} in English"
            )
        if wanted.context is not None:
            problem = name_problem(wanted.context, text)
            if problem is not None:
                problems.append(f"{where}: {text!r}: {problem}")
    return problems


def _shown(found: Iterable[Field]) -> str:
    return ", ".join(sorted("{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
                            for name, conv, spec in found)) or "none"


def main() -> int:
    """Print each shipped locale's problems; exit status 1 if any."""
    reference = template()
    failed = False
    for locale in SHIPPED:
        problems = catalog_problems(shipped_catalog(locale), reference)
        print(f"{locale}: {'ready' if not problems else f'{len(problems)} problems'}")
        for problem in problems[:50]:
            print(f"  {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
