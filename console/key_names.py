"""Keys as a person types them, checked and named from the keymap (console/keymap.py).

Textual names keys after their characters (`right_square_bracket`, `question_mark`); people
write `]` and `?`, and X11 habits give `bracketright` or `period`. `key_label` shows a key as
it is typed (`]`, `^O`, `F8`, `Esc`), for the footer, help and every text that names a key;
`keyed` fills a text's `{binding-id}` fields with the keys bound now, so a remapped key
(`FRONTLINE_KEYMAP`) is the one the panels name; `check_keymap` reads the remapping, turns
typed characters into Textual's names and says which ids or keys it does not know.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Mapping
from functools import cache
from typing import Any

from textual.keys import Keys, _character_to_key, format_key

from console.i18n import _
from console.keymap import KEYMAP

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")

ALIASES = {
    # X11 keysym names and other spellings people use, to the names Textual gives the keys.
    "bracketright": "right_square_bracket",
    "bracketleft": "left_square_bracket",
    "braceright": "right_curly_bracket",
    "braceleft": "left_curly_bracket",
    "parenright": "right_parenthesis",
    "parenleft": "left_parenthesis",
    "period": "full_stop",
    "dot": "full_stop",
    "question": "question_mark",
    "equal": "equals_sign",
    "exclam": "exclamation_mark",
    "numbersign": "number_sign",
    "dollar": "dollar_sign",
    "percent": "percent_sign",
    "grave": "grave_accent",
    "asciitilde": "tilde",
    "asciicircum": "circumflex_accent",
    "bar": "vertical_line",
    "less": "less_than_sign",
    "greater": "greater_than_sign",
    "quotedbl": "quotation_mark",
    "esc": "escape",
    "return": "enter",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "del": "delete",
    "ins": "insert",
}

NAMED_LABELS = {
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "space": "Space",
    "backspace": "Backspace",
    "delete": "Del",
    "insert": "Ins",
    "home": "Home",
    "end": "End",
    "pageup": "PgUp",
    "pagedown": "PgDn",
}
"""How the named keys read (Textual's arrows are kept: ← → ↑ ↓)."""


@cache
def _known_keys() -> frozenset[str]:
    printable = {
        _character_to_key(c) for c in string.printable if c not in string.whitespace or c == " "
    }
    return frozenset({k.value for k in Keys} | printable | {f"f{n}" for n in range(1, 25)})


def normal_key(key: str) -> str:
    """One key (`ctrl+]`, `bracketright`, `F8`) under the name Textual gives it."""
    key = key.strip()
    *modifiers, name = key.split("+") if len(key) > 1 else [key]
    if name == "" and key.endswith("+"):  # `ctrl++`
        name = "+"
    if len(name) == 1:
        name = _character_to_key(name)
    else:
        name = ALIASES.get(name.lower(), name.lower())
    return "+".join([*(m.lower() for m in modifiers), name])


def is_known(key: str) -> bool:
    """True when `key` (as normal_key gives it) is a key a terminal can send."""
    *modifiers, name = key.split("+")
    return all(m in MODIFIERS for m in modifiers) and name in _known_keys()


def key_label(key: str) -> str:
    """One key as a person types it: `]`, `?`, `^O`, `F8`, `Esc`, `Shift+Tab`."""
    *modifiers, name = normal_key(key).split("+")
    if name in NAMED_LABELS:
        shown = NAMED_LABELS[name]
    elif len(name) > 1 and name[0] == "f" and name[1:].isdigit():
        shown = name.upper()
    else:
        shown = format_key(name)
    if "ctrl" in modifiers:
        modifiers.remove("ctrl")
        shown = "^" + (shown.upper() if len(shown) == 1 else shown)
    return "+".join([*(m.title() for m in modifiers), shown])


def keys_label(keys: str, sep: str = "/") -> str:
    """A binding's keys (comma-separated) as typed: `→/]`."""
    return sep.join(key_label(k) for k in keys.split(",") if k.strip())


@cache
def _bindings_by_id() -> dict[str, str]:
    found: dict[str, str] = {}
    for scope in KEYMAP.values():
        for binding in scope.bindings:
            if binding.id:
                found.setdefault(binding.id, binding.key)
    return found


def binding_ids() -> list[str]:
    """Every binding id of the keymap."""
    return list(_bindings_by_id())


def keys_for(node: Any, binding_id: str, first: bool = True) -> str:
    """The key(s) bound to `binding_id` now (the app's FRONTLINE_KEYMAP remapping applied),
    as typed; `first`: only the first of them, as short texts name it."""
    app = getattr(node, "app", node)
    overrides: Mapping[str, str] = getattr(app, "keymap_overrides", {}) or {}
    keys = overrides.get(binding_id) or _bindings_by_id()[binding_id]
    if first:
        return key_label(keys.split(",")[0])
    return keys_label(keys)


class _Keys(dict[str, str]):
    def __init__(self, node: Any, values: Mapping[str, object]) -> None:
        super().__init__({k: str(v) for k, v in values.items()})
        self._node = node

    def __missing__(self, name: str) -> str:
        return keys_for(self._node, name)


def keyed(node: Any, template: str, **values: object) -> str:
    """`template` with each `{binding-id}` field replaced by its key as bound now, and the
    other fields by `values` ("Press {finish-call} to save" → "Press F8 to save")."""
    return template.format_map(_Keys(node, values))


def check_keymap(overrides: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """FRONTLINE_KEYMAP read against KEYMAP: the remapping (keys under Textual's names) and
    what is wrong with it, one sentence each, naming the id or key with a suggestion."""
    ids = binding_ids()
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in overrides.items():
        if binding_id not in _bindings_by_id():
            close = difflib.get_close_matches(binding_id, ids, n=1, cutoff=0.6)
            hint = (
                _("did you mean {id}?").format(id=close[0])
                if close
                else _("F1 lists every binding id")
            )
            problems.append(
                _("FRONTLINE_KEYMAP: {id} is not a binding id and is ignored: {hint}").format(
                    id=repr(binding_id), hint=hint
                )
            )
            continue
        good: list[str] = []
        for key in (k for k in keys.split(",") if k.strip()):
            name = normal_key(key)
            if is_known(name):
                good.append(name)
            else:
                close = difflib.get_close_matches(name, sorted(_known_keys()), n=1, cutoff=0.6)
                hint = (
                    _("did you mean {id}?").format(id=close[0])
                    if close
                    else _("keys are named as f6, ctrl+o, ]")
                )
                problems.append(
                    _(
                        "FRONTLINE_KEYMAP: {key} for {id} is not a key and is ignored: {hint}"
                    ).format(key=repr(key.strip()), id=binding_id, hint=hint)
                )
        if good:
            keymap[binding_id] = ",".join(good)
    return keymap, problems
