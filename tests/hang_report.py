"""What a hung test was waiting for, in its failure report.

pytest-timeout's thread method ends a hung test's worker with `os._exit` after printing the
threads' stacks to the worker's terminal, which pytest-xdist does not pass on: CI shows only
"worker crashed". And an asyncio test hangs in an awaited task, which no thread's stack shows
(the loop just waits in `select`). So, a little before that timeout, every thread's and every
pending task's stack is taken, the test's own task is cancelled (it then fails with its
traceback, and the worker lives on), and the stacks go into the report as a section.
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

EARLY = 15.0  # seconds before pytest-timeout ends the worker: time for the test to unwind


def _report(timeout: float) -> str:
    out = io.StringIO()
    out.write(f"still running after {timeout - EARLY:.0f} s; cancelled\n")
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        out.write(f"---- thread {names.get(ident, ident)}\n")
        out.write("".join(traceback.format_stack(frame)))
    for task in _pending():
        out.write(f"---- task {task.get_name()}: {task.get_coro()!r}\n")
        task.print_stack(file=out)
    return out.getvalue()


def _pending() -> Iterator[asyncio.Task[Any]]:
    for task in list(asyncio.tasks._all_tasks):  # type: ignore[attr-defined]
        if not task.done():
            yield task


def _hung(item: pytest.Item, timeout: float) -> None:
    try:
        item.hang_text = _report(timeout)  # type: ignore[attr-defined]
    except Exception as error:  # noqa: BLE001 - a report that failed says so, and why
        item.hang_text = f"no hang report: {error!r}"  # type: ignore[attr-defined]
    name = getattr(item, "originalname", item.name)
    for task in _pending():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and code.co_name == name:
            task.get_loop().call_soon_threadsafe(task.cancel)


@pytest.hookimpl
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> None:
    if settings.timeout <= 2 * EARLY:
        return
    timer = threading.Timer(settings.timeout - EARLY, _hung, (item, settings.timeout))
    timer.daemon = True
    timer.start()
    item.hang_timer = timer  # type: ignore[attr-defined]
    # None: pytest-timeout's own timer is set as well, the last resort


@pytest.hookimpl
def pytest_timeout_cancel_timer(item: pytest.Item) -> None:
    timer = getattr(item, "hang_timer", None)
    if timer is not None:
        timer.cancel()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    text = getattr(item, "hang_text", None)
    if text and report.failed:
        report.sections.append(("hang report", text))
        item.hang_text = None  # type: ignore[attr-defined]
    return report
