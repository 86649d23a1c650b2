"""Babel extractors (see `babel.cfg`): the texts of `bot/messages` and of the command tree.

`extract_messages` reads a `bot/messages` module with `ast` and yields every text the module
defines: the arguments of `Text(...)` and `Msg(...)`, the two forms of `Plural(...)` (as an
`ngettext` entry) and module-level string constants (the `*_TITLE` strings). The `#:` comment above
an assignment, which says what its fields hold, goes to the translators with it. Nothing is marked
with `_()` in those modules: being defined there is what makes a string a text (`bot.messages`).

`extract_commands` yields every name and description of every slash command, option, choice and
menu, with its context, by building the real command tree offline (`bot.i18n.commands`); babel.cfg
maps it to `bot/i18n/commands.py` only so that it runs once.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

__all__ = ["extract_commands", "extract_messages"]

#: (line, function, messages, comments): what Babel expects from an extractor.
Extracted = tuple[int, str, str | tuple[str, ...], list[str]]


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _comments(lines: list[str], lineno: int) -> list[str]:
    """The `#:` comment lines right above line `lineno` (1-based)."""
    found: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#:"):
        found.insert(0, lines[index].lstrip()[2:].strip())
        index -= 1
    return found


def extract_messages(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[Extracted]:
    """The texts a `bot/messages` module defines (see the module docstring)."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    module = ast.parse(source)
    lines = source.splitlines()
    comment_at: dict[int, list[str]] = {}
    for statement in module.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            comments = _comments(lines, statement.lineno)
            for node in ast.walk(statement):
                comment_at[id(node)] = comments
            value = statement.value
            target = statement.targets[0] if isinstance(statement, ast.Assign) else statement.target
            text = _string(value) if value is not None else None
            name = _name(target) or ""
            if text is not None and not name.startswith("_"):
                yield statement.lineno, "_", text, comments
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        function = _name(node.func)
        texts = [_string(argument) for argument in node.args]
        comments = comment_at.get(id(node), [])
        if function in ("Text", "Msg"):
            for text in texts:
                if text is not None:
                    yield node.lineno, "_", text, comments
        elif function == "Plural" and len(texts) == 2 and None not in texts:
            singular, plural = texts
            assert singular is not None and plural is not None
            yield node.lineno, "ngettext", (singular, plural), comments


def extract_commands(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[Extracted]:
    """Every name and description the command tree syncs, as `pgettext(context, text)` entries."""
    from bot.i18n.commands import command_strings

    notes = {
        "command_name": "A slash command's name: lower case, no spaces, at most 32 letters, digits, - or _.",
        "group_name": "A command group's name: lower case, no spaces, at most 32 letters, digits, - or _.",
        "parameter_name": "An option's name: lower case, no spaces, at most 32 letters, digits, - or _.",
        "menu_name": "A message menu's name (Apps menu): at most 32 characters, spaces allowed.",
        "choice_name": "A choice in an option's list: at most 100 characters.",
    }
    for context, text in asyncio.run(command_strings()):
        note = notes.get(context, "At most 100 characters.")
        yield 1, "pgettext", (context, text), [note]
