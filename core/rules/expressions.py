"""Conditions: CEL expressions checked against the typed context, compiled once at load.

CEL (the Common Expression Language, `common-expression-language`, a Rust implementation) is
not Turing-complete: no loops, no assignments, no I/O, and its regular expressions run in
linear time, so a condition can neither run code nor read a file. It can still be slow:
nested comprehensions (`exists`, `map`...) multiply, and the library holds the GIL while it
runs, so a slow condition freezes every thread of the process. `core.rules.cost` therefore
bounds what a condition may cost before it is ever run. On top of the library's own parser
this module checks what CEL leaves to run time: every name must be a documented field (with
a suggestion for a misspelling), a field compared with a literal must match its type, and a
trial run on a typed sample context must give true or false.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import cel

from core.i18n import N_
from core.i18n import words as _
from core.rules.cost import cost_problems, estimate
from core.rules.schema import NAMESPACES, FieldSpec, field, probe_context
from core.rules.suggest import closest

MAX_EXPRESSION_LENGTH = 2000
"""Longer conditions are refused: they are unreadable, and bound the work per clause."""

FUNCTIONS = frozenset(
    {
        "size", "int", "uint", "double", "string", "bool", "bytes", "type", "has",
        "matches", "contains", "startsWith", "endsWith", "exists", "all", "exists_one",
        "map", "filter", "lowerAscii", "upperAscii", "trim", "max", "min", "dyn",
        "timestamp", "duration", "getFullYear", "getMonth", "getDayOfWeek",
    }
)  # fmt: skip
"""Functions and methods a condition may call (CEL's standard library)."""

_MACROS = frozenset({"exists", "all", "exists_one", "map", "filter"})
_KEYWORDS = frozenset({"true", "false", "null", "in"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>(?:[rRbB]{1,2})?(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"
        |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|0x[0-9a-fA-F]+u?|\d+u?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%?:.,()\[\]{}])
  | (?P<other>.)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int


@dataclass(frozen=True)
class Problem:
    """Something wrong in a condition, at a character offset in its text."""

    offset: int
    message: str


def tokens(source: str) -> list[Token]:
    """CEL tokens with their offsets, spaces dropped."""
    out = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "other"
        if kind != "space":
            out.append(Token(kind, match.group(), match.start()))
    return out


@dataclass(frozen=True)
class Reference:
    """A field path read by a condition, where it starts and which token ends it."""

    path: str
    start: int
    end_index: int


def _references(toks: list[Token], problems: list[Problem]) -> Iterator[Reference]:
    bound: set[str] = set()
    for i, tok in enumerate(toks):
        # `list.exists(x, …)`: x is a variable of the macro, not a context name
        if tok.kind == "name" and tok.text in _MACROS and i + 2 < len(toks):
            if toks[i + 1].text == "(" and toks[i + 2].kind == "name":
                bound.add(toks[i + 2].text)
    i = 0
    while i < len(toks):
        tok = toks[i]
        after_dot = i > 0 and toks[i - 1].text == "."
        if tok.kind != "name" or after_dot or tok.text in _KEYWORDS or tok.text in bound:
            i += 1
            continue
        calls = i + 1 < len(toks) and toks[i + 1].text == "("
        if calls:
            if tok.text not in FUNCTIONS:
                hint = closest(tok.text, FUNCTIONS)
                problems.append(Problem(tok.start, _unknown("function", tok.text, hint)))
            i += 1
            continue
        if tok.text not in NAMESPACES:
            hint = closest(tok.text, NAMESPACES)
            problems.append(Problem(tok.start, _unknown("name", tok.text, hint)))
            i += 1
            continue
        parts = [tok.text]
        j = i + 1
        while j + 1 < len(toks) and toks[j].text == "." and toks[j + 1].kind == "name":
            is_call = j + 2 < len(toks) and toks[j + 2].text == "("
            if is_call:
                break
            parts.append(toks[j + 1].text)
            j += 2
        end = j - 1
        fields = NAMESPACES[tok.text]
        if len(parts) == 1:
            problems.append(
                Problem(
                    tok.start,
                    _("'{name}' needs a field, e.g. {example}").format(
                        name=tok.text, example=f"{tok.text}.{next(iter(fields))}"
                    ),
                )
            )
        elif parts[1] not in fields:
            hint = closest(parts[1], fields)
            offset = toks[i + 2].start
            problems.append(Problem(offset, _unknown("field", f"{tok.text}.{parts[1]}", hint)))
        elif len(parts) > 2:
            problems.append(
                Problem(
                    toks[i + 4].start,
                    _("{name} has no field '{field}'").format(
                        name=f"{parts[0]}.{parts[1]}", field=parts[2]
                    ),
                )
            )
        else:
            yield Reference(f"{parts[0]}.{parts[1]}", tok.start, end)
        i = j


_UNKNOWN = {
    "function": N_("unknown function '{name}'"),
    "name": N_("unknown name '{name}'"),
    "field": N_("unknown field '{name}'"),
}


def _unknown(what: str, name: str, hint: str | None) -> str:
    message = _(_UNKNOWN[what]).format(name=name)
    return message + _("; did you mean '{hint}'?").format(hint=hint) if hint else message


_TYPE_WORDS = {"string": N_("text"), "str": N_("text"), "int": N_("a whole number"),
               "double": N_("a number"), "bool": N_("true/false"), "list": N_("a list"),
               "dict": N_("a map"), "null": "null", "value": N_("a value")}  # fmt: skip
"""Translated where shown (`_(…)`): a type as the rules file's writer reads it."""


def _literal_type(tok: Token) -> str | None:
    if tok.kind == "string":
        return "string"
    if tok.kind == "number":
        return "double" if "." in tok.text or "e" in tok.text.lower() else "int"
    if tok.text in ("true", "false"):
        return "bool"
    if tok.text == "null":
        return "null"
    return None


def _compatible(spec: FieldSpec, literal: str, element: bool = False) -> bool:
    expected = "string" if element and spec.type == "list" else spec.type
    if literal == "null":
        return spec.nullable
    if expected in ("int", "double"):
        return literal in ("int", "double")
    return literal == expected


_COMPARE = frozenset({"==", "!=", "<", "<=", ">", ">="})


def _type_problems(toks: list[Token], refs: list[Reference]) -> Iterator[Problem]:
    for ref in refs:
        spec = field(ref.path)
        assert spec is not None
        after = ref.end_index + 1
        if after + 1 < len(toks) and toks[after].text in _COMPARE:
            literal = _literal_type(toks[after + 1])
            if literal and not _compatible(spec, literal):
                yield _mismatch(ref.path, spec, toks[after + 1])
        if after + 1 < len(toks) and toks[after].text == "in" and toks[after + 1].text == "[":
            k = after + 2
            while k < len(toks) and toks[k].text != "]":
                literal = _literal_type(toks[k])
                if literal and not _compatible(spec, literal):
                    yield _mismatch(ref.path, spec, toks[k])
                k += 1
        start = next(n for n, t in enumerate(toks) if t.start == ref.start)
        if start >= 2 and toks[start - 1].text in _COMPARE | {"in"}:
            literal = _literal_type(toks[start - 2])
            element = toks[start - 1].text == "in"
            if literal and not _compatible(spec, literal, element=element):
                yield _mismatch(ref.path, spec, toks[start - 2], element)


def _mismatch(path: str, spec: FieldSpec, tok: Token, element: bool = False) -> Problem:
    kind = _("list of text") if spec.type == "list" else _(_TYPE_WORDS[spec.type])
    if element:
        return Problem(
            tok.start,
            _("wrong type: {path} is a {kind}; {value} is not text").format(
                path=path, kind=kind, value=tok.text
            ),
        )
    return Problem(
        tok.start,
        _("wrong type: {path} is {kind}, compared with {other} {value}").format(
            path=path, kind=kind, other=_(_TYPE_WORDS[_literal_type(tok) or "null"]), value=tok.text
        ),
    )


_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


def _syntax_problem(source: str, error: Exception) -> Problem:
    text = str(error)
    match = _CEL_POSITION.search(text)
    if not match:
        return Problem(
            0, _("syntax error: {reason}").format(reason=text.splitlines()[0] if text else error)
        )
    line, column, message = int(match.group(1)), int(match.group(2)), match.group(3)
    lines = source.split("\n")
    offset = sum(len(lines[k]) + 1 for k in range(min(line - 1, len(lines)))) + column - 1
    message = message.removeprefix("ERROR: ").strip()
    message = re.sub(r"\s*expecting \{.*", "", message).replace(
        "mismatched input '<EOF>'", "unexpected end of condition"
    )
    message = message[:1].lower() + message[1:]
    return Problem(max(0, min(offset, len(source))), message)


@dataclass(frozen=True)
class Condition:
    """A named, compiled condition and the fields it reads."""

    name: str
    source: str
    program: Any
    paths: tuple[str, ...]
    cel_source: str = ""
    """The text compiled (with `offer.` bound to this offer); the source when empty."""
    cost: int = 0
    """Its estimated cost per customer (core.rules.cost), which a file's total is bound by."""


def compile_condition(name: str, source: str) -> tuple[Condition | None, list[Problem]]:
    """Check and compile one condition.

    Args:
        name: the condition's name in the rules file.
        source: its CEL text.

    Returns:
        The compiled condition, or None with the problems found (offsets into `source`).
    """
    if len(source) > MAX_EXPRESSION_LENGTH:
        message = _("condition longer than {limit} characters").format(limit=MAX_EXPRESSION_LENGTH)
        return None, [Problem(0, message)]
    if not source.strip():
        return None, [Problem(0, _("empty condition"))]
    try:
        program = cel.compile(source)
    except Exception as error:  # noqa: BLE001 - the library raises ValueError and others
        return None, [_syntax_problem(source, error)]
    toks = tokens(source)
    cost = estimate(toks)
    problems = [Problem(offset, message) for offset, message in cost_problems(cost)]
    if problems:
        return None, problems
    refs = list(_references(toks, problems))
    problems.extend(_type_problems(toks, refs))
    if problems:
        return None, problems
    try:
        result = program.execute(cel.Context(probe_context()))
    except TypeError:
        return None, [
            Problem(
                0,
                _(
                    "wrong type: the operands do not fit together ("
                    "CEL does not mix text, numbers and lists; use int(), double())"
                ),
            )
        ]
    except Exception as error:  # noqa: BLE001 - any failure on typical values is a defect
        reason = str(error).splitlines()[0]
        return None, [Problem(0, _("cannot be evaluated: {reason}").format(reason=reason))]
    if not isinstance(result, bool):
        found = _(
            _TYPE_WORDS.get(type(result).__name__.replace("float", "double"), _TYPE_WORDS["value"])
        )
        message = _("wrong type: a condition must be true or false, not {found}").format(
            found=found
        )
        return None, [Problem(0, message)]
    paths = tuple(dict.fromkeys(ref.path for ref in refs))
    return Condition(name, source, program, paths, cost=cost.cost), []


OFFERS_MAP = "offers"
"""Context key holding each offer's own namespace, keyed by offer id."""


def bind_to_offer(condition: Condition, offer_id: str) -> Condition:
    """The condition with `offer.x` read from `offers["<offer_id>"].x`.

    One CEL context then serves every offer of a customer: building a context converts all
    its values, so it is built once per customer rather than once per offer.
    """
    if not any(path.startswith("offer.") for path in condition.paths):
        return condition
    source = condition.source
    starts = [ref.start for ref in _references(tokens(source), []) if ref.path.startswith("offer.")]
    for start in sorted(starts, reverse=True):
        source = f'{source[:start]}{OFFERS_MAP}["{offer_id}"]{source[start + len("offer") :]}'
    return replace(condition, program=cel.compile(source), cel_source=source)
