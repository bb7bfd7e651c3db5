"""A Rich progress bar for long commands: on a terminal only, never in a pipe."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from console.commands.i18n import N_, _

StageProgress = Callable[[str, int, int], None]


STAGES = (N_("customers"), N_("indexes"), N_("search index"), N_("analytics"), N_("importing"))
"""The stages callers name (core.demo.build, the commands), translated when their bar shows."""


@contextmanager
def stage_progress(enabled: bool | None = None) -> Iterator[StageProgress]:
    """A `progress(stage, done, total)` callback drawing one bar per stage on stderr.

    Args:
        enabled: force the bar on or off; by default only when stderr is a terminal.
    """
    console = Console(stderr=True)
    show = console.is_terminal and sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield lambda _stage, _done, _total: None
        return
    bars = Progress(
        TextColumn("{task.description:<14}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        task = tasks.get(stage)
        if task is None:
            task = tasks[stage] = bars.add_task(stage, total=max(total, 1))  # text: markup=False
        bars.update(task, completed=done, total=max(total, 1))

    with bars:
        yield lambda stage, done, total: update(_(stage), done, total)  # shown translated
