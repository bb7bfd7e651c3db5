"""The command line's words (output, errors, help): `from console.commands.i18n import _`.

Help texts are written in English in the code (option `help=`, command docstrings) and
translated when a command is loaded (`localize`), so they follow the language `main()` chose
whenever the module was imported. Click's own words (`Usage:`, `Error:`, `Show this message
and exit.`) come from a `click` catalog of ours: click asks the global `gettext` domain, which
knows nothing of Frontline's language, so `speak_click` points its modules at our catalog.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from core.i18n import N_, Catalog

__all__ = ["N_", "_", "localize", "speak_click"]

LOCALE = Path(__file__).parent / "locale"

_ = Catalog("cli", LOCALE)
click_words = Catalog("click", LOCALE)
"""Click's own messages, extracted from click's sources (`make messages`)."""

_CLICK_MODULES = (
    "click.core", "click.exceptions", "click.formatting", "click.decorators", "click.types",
    "click.termui", "click.parser", "click.utils", "click.shell_completion",
)  # fmt: skip


def speak_click() -> None:
    """Make click's messages read in Frontline's current language (idempotent)."""
    for name in _CLICK_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = click_words  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = click_words.ngettext  # type: ignore[attr-defined]


def localize(command: click.Command) -> click.Command:
    """Translate a command's help, its options' help and its subcommands', in place.

    The English texts are kept aside, so a later call in another language (a test, an API
    process) translates from English again.
    """
    for item in (command, *command.params):
        for attribute in ("help", "short_help"):
            original = _original(item, attribute)
            if original:
                setattr(item, attribute, _(original))
    if getattr(command, "_help_option", None) is not None:
        # click builds `--help` once, in the language of the first run, and keeps it.
        command._help_option = None
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            localize(sub)
    return command


def _original(item: Any, attribute: str) -> str | None:
    key = f"_frontline_{attribute}"
    if not hasattr(item, key):
        value = getattr(item, attribute, None)
        setattr(item, key, inspect.cleandoc(value) if isinstance(value, str) else value)
    original: str | None = getattr(item, key)
    return original


def extract_commands(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor (babel.cfg): the usual `_()`/`N_()` calls plus click commands' docstrings,
    which click shows as their help."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    if b"click" not in source:
        return
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            _is_click_command(d) for d in node.decorator_list
        ):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, "", doc, []


def _is_click_command(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in {"command", "group"}
