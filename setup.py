"""The one build step pyproject.toml cannot declare: compiling the message catalogs (`.po` -> `.mo`).

`build_py` compiles every `bot/locales/*/LC_MESSAGES/bot.po` with Babel before copying the package,
so a wheel (`pip install .`) carries the `.mo` files. The `.mo` files are written next to their `.po`
in the source tree, which also serves an editable install (`pip install -e .`): its package is the
source tree itself. The `.mo` files are build output, never committed (`.gitignore`); should one be
missing or stale anyway, `bot.i18n` compiles the `.po` in memory.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LOCALES = Path(__file__).resolve().parent / "bot" / "locales"


def compile_catalogs() -> list[Path]:
    """Compile each catalog whose `.mo` is missing or older than its `.po`; returns the `.mo` files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(LOCALES.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        with mo.open("wb") as target:
            write_mo(target, catalog)
        written.append(mo)
    return written


class BuildWithCatalogs(build_py):
    """`build_py` that compiles the message catalogs first, so they are package data like any other."""

    def run(self) -> None:
        for mo in compile_catalogs():
            self.announce(f"compiled {mo.relative_to(LOCALES.parent.parent)}", level=2)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
