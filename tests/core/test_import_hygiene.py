"""Light paths stay light: what a command or the search loads, measured in a fresh process.

A search keystroke and `frontline lookup` over SSH start fast because they import neither
the numeric stack (numpy, scipy: the index rebuild and analytics), nor the offer rules' CEL
engine, nor the console's UI. An import added anywhere on their path would slow every start
without failing anything else, so each path is imported alone in a subprocess and the heavy
packages it loaded are listed.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

NUMERIC_AND_RULES = ("numpy", "scipy", "cel")
"""cel is the import name of common-expression-language (the offer rules' CEL engine)."""


def loaded(statement: str, heavy: tuple[str, ...]) -> list[str]:
    """The packages of `heavy` that are in sys.modules after running `statement` alone."""
    script = (
        f"import sys\n{statement}\n"
        f"print(' '.join(sorted({{m.partition('.')[0] for m in sys.modules}} & {set(heavy)!r})))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    return found


@pytest.mark.parametrize(
    ("statement", "heavy"),
    [
        ("import core.search.service", (*NUMERIC_AND_RULES, "textual", "rich")),
        # What `frontline lookup` imports: the command line, the command, what it runs.
        (
            "import console.cli, console.commands.lookup, core.search.lookup, core.search.service",
            (*NUMERIC_AND_RULES, "textual"),
        ),
    ],
)
def test_a_light_path_loads_nothing_heavy(statement: str, heavy: tuple[str, ...]) -> None:
    assert loaded(statement, heavy) == []


def test_the_check_sees_a_heavy_import() -> None:
    assert loaded("import core.search.rebuild", ("numpy", "scipy")) == ["numpy"]
