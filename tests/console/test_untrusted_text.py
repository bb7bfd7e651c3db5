"""Untrusted text is never parsed as markup nor written as escapes: the whole class, twice.

1. The console is walked with customers whose names and notes are markup, a broken tag, a
   click action and a terminal escape: every one is on screen exactly as typed.
2. A static check over console/screens and console/widgets: every Static(...), Label(...),
   `.update(...)`, DataTable cell, column and option given something other than a literal
   gets rich Text (safe_text, fit, Text...), or says markup=False. Textual parses plain
   strings in all of these as markup, so one f-string with a name in it is enough to crash
   the console (`[a=?`) or run an action (`[@click=app.quit]`). A line the check cannot
   prove safe carries `# text: <why>` (a number, a time), read by a reviewer.
3. The same check over console/commands: what the `frontline` commands print through rich
   (`console.print`, Table rows and columns, progress task descriptions) is rich Text or
   markup=False, or rich would parse an offer id or a segment name as markup.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

from console.app import ConsoleApp
from core.models import ContactPoint, Customer, Interaction
from core.search.indexer import index_customers
from core.services import Services
from tests.console.conftest import running
from tests.console.test_agent_screen import open_first, settle
from tests.console.test_console_reliability import screen_text

HOSTILE = ["[bold]x[/]", "[a=?", "[@click=app.quit]x[/]", "Red\x1b[31mtext"]
SHOWN = ["[bold]x[/]", "[a=?", "[@click=app.quit]x[/]", "Red␛[31mtext"]


async def test_hostile_names_and_notes_are_shown_as_typed(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        ids = []
        for n, name in enumerate(HOSTILE, start=1):
            customer = Customer(
                external_id=f"H{n:08d}",
                first_name="Zoe",
                last_name=f"Hostil {name}",
                city=name,
                country="ES",
                birth_date=date(1980, 1, n),
                customer_since=date(2020, 1, 1),
            )
            session.add(customer)
            await session.flush()
            assert customer.id is not None
            ids.append(customer.id)
            session.add(
                ContactPoint(
                    customer_id=customer.id,
                    kind="phone",
                    value=f"+34 700 000 00{n}",
                    normalized=f"3470000000{n}",
                    label=name,
                    is_primary=True,
                )
            )
            session.add(
                Interaction(
                    customer_id=customer.id,
                    at=datetime(2026, 11, 1, 10, tzinfo=UTC),
                    channel="phone",
                    direction="inbound",
                    subject=name,
                    outcome="resolved",
                    agent=name,
                    notes=name,
                )
            )
        await index_customers(session, ids)
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (120, 40)) as pilot:
        await settle(pilot)
        for n, shown in enumerate(SHOWN, start=1):
            await open_first(pilot, f"H{n:08d}")
            assert app.is_running  # a MarkupError, or the click action, would have closed it
            assert app.agent_screen.customer_id == ids[n - 1]
            text = screen_text(app)
            assert f"Zoe Hostil {shown}" in text, text  # the header
            assert text.count(shown) >= 3, text  # ...the city, the history's subject, notes
            assert "\x1b" not in text


# --- the static check ----------------------------------------------------------------------

CONSOLE = Path(__file__).parents[2] / "console"
CHECKED = [CONSOLE / "screens", CONSOLE / "widgets", CONSOLE / "app.py"]
SINKS = {"Static", "Label", "update", "add_row", "update_cell", "add_column", "Option"}
"""Calls whose plain-string argument Textual parses as markup."""
SAFE_BUILDERS = {
    "Text",
    "safe_text",
    "fit",
    "who_cell",
    "assemble",
    "join",
    "Table",
    "keys_table",
}
"""Calls that give rich Text (or a Table of it): shown as it is. So do the functions of the
checked module annotated `-> Text`."""
NUMBERS = {
    "duration",
    "percent",
    "clock",
    "_local",
    "len",
    "compact_datetime",
    "amount",
    "percent_1",
}
"""Calls that format numbers and times only (no text of anyone's)."""
NUMBER_FIELDS = re.compile(r"(_id|_calls|_count|_today)$")
"""Fields that hold numbers (ids, counts): `str()` of them is digits."""


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _Scope:
    """What each local name of a function is assigned, to follow `text = Text(...)`."""

    def __init__(self, function: ast.AST | None, text_functions: set[str]) -> None:
        self.text_functions = text_functions
        """The module's functions annotated `-> Text`."""
        self.values: dict[str, list[ast.expr | None]] = {}
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for arg in function.args.args + function.args.kwonlyargs:  # `text: Text`
                if arg.annotation is not None and ast.unparse(arg.annotation) == "Text":
                    self.values[arg.arg] = [ast.Call(ast.Name("Text"), [], [])]
        for node in ast.walk(function) if function is not None else ():
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._bind(target, node.value)
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
                self._bind(node.target, node.value)
            elif isinstance(node, ast.For | ast.comprehension | ast.With | ast.NamedExpr):
                for target in _targets(node):
                    self._bind(target, None)  # unknown: from an iterable or a context

    def _bind(self, target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            self.values.setdefault(target.id, []).append(value)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._bind(element, None)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.For | ast.comprehension):
        return [node.target]
    if isinstance(node, ast.With):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    if isinstance(node, ast.NamedExpr):
        return [node.target]
    return []


def _safe(node: ast.expr | None, scope: _Scope, seen: frozenset[str] = frozenset()) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | int | float) or node.value is None
    if isinstance(node, ast.Call):
        if _name(node.func) == "_" and len(node.args) == 1:  # our own words, translated
            return isinstance(node.args[0], ast.Constant)
        if _name(node.func) == "str" and len(node.args) == 1:  # str(call.call_id): a number
            return bool(NUMBER_FIELDS.search(ast.unparse(node.args[0])))
        return _name(node.func) in SAFE_BUILDERS | NUMBERS | scope.text_functions
    if isinstance(node, ast.JoinedStr):  # an f-string of numbers only: `{x:.0f}`, `{duration(s)}`
        return all(
            part.format_spec is not None
            or (isinstance(part.value, ast.Call) and _name(part.value.func) in NUMBERS)
            for part in node.values
            if isinstance(part, ast.FormattedValue)
        )
    if isinstance(node, ast.Subscript):  # a slice of something safe
        return _safe(node.value, scope, seen)
    if isinstance(node, ast.IfExp):
        return _safe(node.body, scope, seen) and _safe(node.orelse, scope, seen)
    if isinstance(node, ast.Starred):
        return _safe(node.value, scope, seen)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_safe(element, scope, seen) for element in node.elts)
    if isinstance(node, ast.Name) and node.id not in seen and node.id in scope.values:
        return all(_safe(value, scope, seen | {node.id}) for value in scope.values[node.id])
    return False


COMMANDS = CONSOLE / "commands"
RICH_SINKS = {"print", "log", "rule", "add_row", "add_column", "add_task", "update", "Panel"}
"""Rich calls in the `frontline` commands whose plain-string arguments rich parses as markup
(`console.print`, a Table's rows and columns, a progress bar's task description)."""
RICH_KEYWORDS = {"description", "title", "caption"}
"""Keyword arguments rich parses as markup too (`progress.add_task(description=...)`)."""


def _unsafe_calls(
    path: Path, sinks: set[str] = SINKS, keywords: frozenset[str] = frozenset()
) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    found: list[str] = []
    functions = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    text_functions = {
        f.name for f in functions if f.returns is not None and ast.unparse(f.returns) == "Text"
    }

    def scope_of(call: ast.Call) -> _Scope:
        inner = [f for f in functions if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)]
        return _Scope(inner[-1] if inner else None, text_functions)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _name(node.func) not in sinks:
            continue
        if any(
            k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in node.keywords
        ):
            continue
        args = list(node.args) + [k.value for k in node.keywords if k.arg in keywords]
        if keywords and _name(node.func) == "update":  # progress.update(task, description=…)
            args = [k.value for k in node.keywords if k.arg in keywords]
        if _name(node.func) == "update_cell":
            args = args[2:3]
        elif _name(node.func) == "update" and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value)
            if receiver in ("self.__dict__",) or not args:
                continue
        scope = scope_of(node)
        if all(_safe(arg, scope) for arg in args):
            continue
        span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        if any("# text:" in line for line in span):
            continue
        found.append(f"{path.relative_to(CONSOLE.parent)}:{node.lineno}: {ast.unparse(node)[:90]}")
    return found


def test_every_text_given_to_a_widget_is_rich_text_or_said_safe() -> None:
    files = [p for root in CHECKED for p in ([root] if root.is_file() else root.rglob("*.py"))]
    unsafe = [line for path in sorted(files) for line in _unsafe_calls(path)]
    assert not unsafe, "give these rich Text (console.safe_text) or markup=False:\n" + "\n".join(
        unsafe
    )


def test_every_text_the_commands_print_through_rich_is_rich_text_or_said_safe() -> None:
    unsafe = [
        line
        for path in sorted(COMMANDS.rglob("*.py"))
        if "rich" in path.read_text(encoding="utf-8")
        for line in _unsafe_calls(path, RICH_SINKS, frozenset(RICH_KEYWORDS))
    ]
    assert not unsafe, "give these rich Text (console.safe_text) or markup=False:\n" + "\n".join(
        unsafe
    )


def test_the_static_check_catches_rich_printing_a_name(tmp_path: Path) -> None:
    sample = CONSOLE / "commands" / "_sample_for_the_check.py"
    sample.write_text(
        "def show(console, progress, table, name):\n"
        "    console.print(f'Customer {name}')\n"
        "    progress.add_task(description=name, total=1)\n"
        "    table.add_row(name)\n"
        "    console.print(name, markup=False)\n"
        "    console.print(safe_text(name))\n",
        encoding="utf-8",
    )
    try:
        found = _unsafe_calls(sample, RICH_SINKS, frozenset(RICH_KEYWORDS))
    finally:
        sample.unlink()
    assert [line.split(": ", 1)[1] for line in found] == [
        "console.print(f'Customer {name}')",
        "progress.add_task(description=name, total=1)",
        "table.add_row(name)",
    ]


def test_the_static_check_catches_an_f_string_with_a_name(tmp_path: Path) -> None:
    sample = CONSOLE / "widgets" / "_sample_for_the_check.py"
    sample.write_text(
        "def show(label, table, name):\n"
        "    label.update(f'Hello {name}')\n"
        "    table.add_row(name, key='x')\n"
        "    text = safe_text(name)\n"
        "    label.update(text)\n"
        "    label.update('plain')\n",
        encoding="utf-8",
    )
    try:
        found = _unsafe_calls(sample)
    finally:
        sample.unlink()
    assert [line.split(": ", 1)[1] for line in found] == [
        "label.update(f'Hello {name}')",
        "table.add_row(name, key='x')",
    ]
