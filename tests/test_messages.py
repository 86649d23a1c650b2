"""`bot.messages` is the one home of member-facing error texts: nothing else builds them, and every one formats.

The scan reads the source of `bot/` and `cogs/` (outside the home) with `ast` and refuses words written
inline where an error's text is made: a string with a letter in it passed to a `UserFacingError`,
`ImageRejected` or `FetchError` class (or a subclass), to `refusal` or to `error_embed`, or written
anywhere in the body of such a class (its `title`, its `super().__init__(...)`). Docstrings and the
`reason` keys (stable machine keys for logs) are not texts. A second scan refuses words written inline
as an embed's title, field or footer, a button's or form's label, or a message's content: those are
translated from the catalogs too (`bot.i18n`).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import pkgutil
import re
import string
import types
import typing
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import bot.messages
from bot.errors import UserFacingError, refusal
from bot.messages import Msg, Plural, Text, commands

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "bot" / "messages"
SCANNED = ("bot", "cogs")

#: Modules still allowed to write member-facing error texts inline, each with why and until when (none now:
#: a module that needs an exception names it here, with the reason).
ALLOWED_INLINE: set[str] = set()

#: Exception classes whose text a member reads; their subclasses are found in the source.
TEXT_CARRYING_ROOTS = frozenset({"UserFacingError", "ImageRejected", "FetchError"})
#: Functions that take a member-facing text.
TEXT_SINKS = frozenset({"refusal", "error_embed"})
#: Keywords and class attributes that hold stable machine keys, not words.
MACHINE_KEYS = frozenset({"reason"})
#: Modules that only choose texts: no words of their own at all.
NO_WORDS = ("bot/error_messages.py",)


# -- the scan ---------------------------------------------------------------------------------------


def _sources() -> dict[str, ast.Module]:
    files = sorted(path for root in SCANNED for path in (ROOT / root).rglob("*.py") if HOME not in path.parents)
    return {path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(encoding="utf-8")) for path in files}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _carrier_classes(modules: Iterable[ast.Module]) -> frozenset[str]:
    """Every class (by name) that is, or derives from, one of `TEXT_CARRYING_ROOTS`."""
    bases = {
        node.name: {_name(base) for base in node.bases}
        for module in modules for node in ast.walk(module) if isinstance(node, ast.ClassDef)
    }
    found = set(TEXT_CARRYING_ROOTS)
    while True:
        more = {name for name, parents in bases.items() if name not in found and parents & found}
        if not more:
            return frozenset(found)
        found |= more


def _docstrings(module: ast.Module) -> set[int]:
    """The docstrings, and the names listed in `__all__`: strings that are not texts."""
    ids = {
        id(constant) for node in module.body if isinstance(node, ast.Assign)
        and any(_name(target) == "__all__" for target in node.targets) for constant in ast.walk(node.value)
    }
    for node in ast.walk(module):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _words(node: ast.AST, skip: Collection[int] = frozenset()) -> Iterator[ast.Constant]:
    """String literals with a letter in them (separators such as ", " are not words)."""
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Constant) and isinstance(child.value, str) and id(child) not in skip
            and any(char.isalpha() for char in child.value)
        ):
            yield child


def _inline_texts(path: str, module: ast.Module, carriers: frozenset[str]) -> list[str]:
    found: list[str] = []
    docstrings = _docstrings(module)
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and (_name(node.func) in carriers or _name(node.func) in TEXT_SINKS):
            values = [*node.args, *(kw.value for kw in node.keywords if kw.arg not in MACHINE_KEYS)]
            found += [
                f"{path}:{word.lineno}: {_name(node.func)}(...) is given {word.value!r}"
                for value in values for word in _words(value)
            ]
        elif isinstance(node, ast.ClassDef) and node.name in carriers:
            machine = {
                id(word) for statement in node.body if isinstance(statement, ast.Assign | ast.AnnAssign)
                for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
                if _name(target) in MACHINE_KEYS for word in _words(statement)
            }
            found += [
                f"{path}:{word.lineno}: class {node.name} writes {word.value!r}"
                for word in _words(node, docstrings | machine)
            ]
    return sorted(set(found))


def test_no_member_facing_error_text_is_built_outside_bot_messages() -> None:
    sources = _sources()
    carriers = _carrier_classes(sources.values())
    assert {"OperationDisabled", "BudgetExceeded", "ChannelNotAllowed", "NotAnImage", "AddressRefused"} <= carriers
    found = [
        line for path, module in sources.items() if path not in ALLOWED_INLINE
        for line in _inline_texts(path, module, carriers)
    ]
    assert not found, "member-facing error texts belong in bot/messages:\n" + "\n".join(found)


def test_the_allow_list_only_names_modules_that_still_need_it() -> None:
    sources = _sources()
    carriers = _carrier_classes(sources.values())
    for path in ALLOWED_INLINE:
        assert path in sources, f"{path} is gone: take it off ALLOWED_INLINE"
        assert _inline_texts(path, sources[path], carriers), f"{path} has no inline texts left: take it off"


def test_the_scan_catches_inline_texts() -> None:
    module = ast.parse(
        "class Busy(UserFacingError):\n"
        "    '''Docstring.'''\n"
        "    title = 'Busy'\n"
        "    def __init__(self, n):\n"
        "        super().__init__(f'{n} waiting')\n"
        "class Odd(ImageRejected):\n"
        "    reason = 'odd_key'\n"
        "def refuse(n):\n"
        "    raise UserFacingError('Nope' if n else texts.X, title='No')\n"
        "def fine():\n"
        "    raise Odd(texts.ODD.format(n=1), reason='odd_key')\n"
        "def joined(items):\n"
        "    return refusal(texts.LIST, lines='\\n'.join(items))\n"
    )
    found = _inline_texts("x.py", module, _carrier_classes([module]))
    assert sorted(line.split(": ", 1)[1] for line in found) == [
        "UserFacingError(...) is given 'No'",
        "UserFacingError(...) is given 'Nope'",
        "class Busy writes ' waiting'",
        "class Busy writes 'Busy'",
    ]


#: Calls that put words on a member's screen, and the keywords that hold the words.
UI_SINKS = {
    "Embed": {"title", "description"}, "add_field": {"name", "value"}, "insert_field_at": {"name", "value"},
    "set_footer": {"text"}, "Button": {"label"}, "TextInput": {"label", "placeholder"},
    "send_message": {"content"}, "edit_original_response": {"content"}, "send": {"content"},
}
#: Discord markup whose letters are not words: timestamps (`<t:...:R>`).
_MARKUP = re.compile(r"<t:|:[tTdDfFR]>")


def _ui_inline_texts(path: str, module: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and _name(node.func) in UI_SINKS:
            for keyword in node.keywords:
                if keyword.arg in UI_SINKS[_name(node.func) or ""]:
                    found += [
                        f"{path}:{word.lineno}: {_name(node.func)}({keyword.arg}=...) is given {word.value!r}"
                        for word in _words(keyword.value) if any(char.isalpha() for char in _MARKUP.sub("", word.value))
                    ]
    return found


def test_no_label_title_or_field_is_written_inline() -> None:
    """Embed titles, field names and values, footers, button and form labels come from bot/messages too.

    (The catalogs can only translate what is there; `tests/test_i18n_replies.py` checks the replies
    themselves with a pseudo-translation.)
    """
    found = [line for path, module in _sources().items() for line in _ui_inline_texts(path, module)]
    assert not found, "member-facing texts belong in bot/messages:\n" + "\n".join(found)


def test_the_ui_scan_catches_inline_labels() -> None:
    module = ast.parse(
        "embed = discord.Embed(title='Status')\n"
        "embed.add_field(name=texts.X.text, value=f'<t:{when}:R> · {x}')\n"
        "discord.ui.Button(label=f'Cancel {n}')\n"
    )
    found = [line.split(": ", 1)[1] for line in _ui_inline_texts("x.py", module)]
    assert found == ["Embed(title=...) is given 'Status'", "Button(label=...) is given 'Cancel '"]


@pytest.mark.parametrize("path", NO_WORDS)
def test_modules_that_choose_texts_hold_no_words(path: str) -> None:
    module = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    words = [f"{path}:{word.lineno}: {word.value!r}" for word in _words(module, _docstrings(module))]
    assert not words, "\n".join(words)


# -- the home -------------------------------------------------------------------------------------


def _areas() -> list[types.ModuleType]:
    return [importlib.import_module(f"bot.messages.{info.name}") for info in pkgutil.iter_modules([str(HOME)])]


def _home_files() -> list[Path]:
    return sorted(HOME.glob("*.py"))


def test_the_home_has_one_module_per_area() -> None:
    assert {module.__name__.rsplit(".", 1)[1] for module in _areas()} == {
        "budgets", "commands", "config", "configuration", "grid", "history", "images", "jobs", "results", "status",
        "ui", "upstream", "usage",
    }


@pytest.mark.parametrize("path", _home_files(), ids=lambda path: path.name)
def test_the_home_uses_templates_not_f_strings_and_imports_nothing_of_the_bot(path: Path) -> None:
    module = ast.parse(path.read_text(encoding="utf-8"))
    f_strings = [node.lineno for node in ast.walk(module) if isinstance(node, ast.JoinedStr)]
    assert not f_strings, f"{path.name}: f-strings on lines {f_strings} (use str.format templates, see bot.messages)"
    imported = {
        node.module or "" for node in ast.walk(module) if isinstance(node, ast.ImportFrom)
    } | {alias.name for node in ast.walk(module) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {"__future__", "collections.abc", "dataclasses", "bot.messages", "bot.i18n"}, imported


@pytest.mark.parametrize("area", _areas(), ids=lambda module: module.__name__)
def test_every_public_name_of_an_area_is_exported(area: types.ModuleType) -> None:
    module = ast.parse(Path(str(area.__file__)).read_text(encoding="utf-8"))
    defined = {node.name for node in module.body if isinstance(node, ast.FunctionDef | ast.ClassDef)} | {
        target.id for node in module.body if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(target, ast.Name)
    }
    public = {name for name in defined if not name.startswith("_")}
    assert public <= set(area.__all__), f"not in __all__: {sorted(public - set(area.__all__))}"
    assert all(hasattr(area, name) for name in area.__all__)


def _sample(field: str, spec: str) -> object:
    return 1234.5 if spec else f"<{field}>"


def _fill(template: str) -> str:
    fields = [(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None]
    assert all(name and name.isidentifier() for name, _ in fields), f"positional or odd field in {template!r}"
    filled = template.format(**{name: _sample(name, spec) for name, spec in fields})
    for name, spec in fields:
        if not spec:
            assert f"<{name}>" in filled
    return filled


def _templates() -> Iterator[tuple[str, Text | str]]:
    for area in _areas():
        for name in area.__all__:
            value = getattr(area, name)
            if isinstance(value, Text | str):
                yield f"{area.__name__}.{name}", value
            elif isinstance(value, Msg):
                yield f"{area.__name__}.{name}", value.source
            elif isinstance(value, Plural):
                yield f"{area.__name__}.{name}[one]", value.singular
                yield f"{area.__name__}.{name}[other]", value.plural


TEMPLATES = dict(_templates())


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_formats(name: str) -> None:
    template = TEMPLATES[name]
    if isinstance(template, Text):
        assert 0 < len(template.title) <= 256 and "{" not in template.title  # Discord's embed title limit
        message = _fill(template.message)
        assert 0 < len(message) <= 4096  # an embed description
    else:
        message = _fill(template)
    assert "{" not in message and "}" not in message


def _arguments(function: types.FunctionType) -> Iterator[dict[str, Any]]:
    """Argument sets covering each parameter's cases: 1 and 2 (one/several), given and None, empty and not."""
    hints = typing.get_type_hints(function)
    options: dict[str, list[Any]] = {}
    for name in inspect.signature(function).parameters:
        hint = hints[name]
        kinds = set(typing.get_args(hint)) if typing.get_origin(hint) in (types.UnionType, typing.Union) else {hint}
        values: list[Any] = []
        for kind in kinds:
            origin = typing.get_origin(kind) or kind
            if kind is type(None):
                values.append(None)
            elif kind is str or kind is object:
                values.append(f"<{name}>")
            elif kind is bool:
                values += [False, True]
            elif kind is int:
                values += [1, 2]
            elif kind is float:
                values.append(2.5)
            elif origin in (list, Sequence, Iterable):
                values += [[], ["manage_guild", "send_messages"]]
            else:
                raise AssertionError(f"{function.__qualname__}: no sample for {name}: {hint}")
        options[name] = values
    for combination in itertools.product(*options.values()):
        yield dict(zip(options, combination, strict=True))


def _functions() -> Iterator[tuple[str, types.FunctionType]]:
    for module in (bot.messages, *_areas()):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, types.FunctionType):
                yield f"{module.__name__}.{name}", value


FUNCTIONS = dict(_functions())


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_message_function_returns_a_filled_text(name: str) -> None:
    function = FUNCTIONS[name]
    for arguments in _arguments(function):
        result = function(**arguments)
        parts = result if isinstance(result, tuple) else (result,)
        assert all(isinstance(part, str) for part in parts)
        assert all("{" not in part and "}" not in part for part in parts), (arguments, result)
        if all(value != [] and value != "" for value in arguments.values()):
            assert all(parts), (arguments, result)


# -- how the code uses it -------------------------------------------------------------------------


def test_refusal_says_a_text_with_its_title() -> None:
    error = refusal(commands.OPERATION_DISABLED, operation="Imagine", command="imagine")
    assert type(error) is UserFacingError
    assert error.title == "Not available here"
    assert error.message == str(error) == (
        "Imagine is turned off in this server. A member with Manage Server can turn it back on with "
        "`/config enable operation:imagine`."
    )


def test_permissions_are_named_as_members_read_them() -> None:
    assert commands.permission_names(["manage_guild", "send_messages"]) == "Manage Server, Send Messages"
