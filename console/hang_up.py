"""A closed terminal or a dropped SSH link (SIGHUP): save every word, sign out, leave at once.

When the terminal goes away, Textual's output thread dies on its first write to it (EIO),
or blocks for ever if the terminal stopped reading first; the event loop then blocks on the
full output queue, an asyncio signal handler never runs, and the console stays, keeping the
agent "on a call" while the last keys typed are in no draft. Nor does a plain Python
handler always run: the kernel may deliver SIGHUP to another thread, and the main thread,
asleep on the queue's lock, never looks. So a thread of its own watches the terminal for
the hang-up (poll's POLLHUP), and SIGHUP (`kill -HUP`, sshd) has a Python handler too; the
first of them:

1. points the terminal's file descriptors at /dev/null and drains the output queue, so that
   nothing waits on the dead terminal any more;
2. has the event loop save as on quitting (`ConsoleApp.save_and_sign_out`: the call panel's
   fields as they are this instant, the draft, the agent signed out), then exit;
3. starts a watchdog: if the save has not finished in SAVE_WITHIN seconds the draft goes to
   the local file (restored on the next start), and the process ends EXIT_GRACE seconds
   after, whatever Textual's shutdown is doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.app import ConsoleApp

SAVE_WITHIN = 4.0
"""Seconds the event loop gets to write the draft and sign the agent out."""
EXIT_GRACE = 1.5
"""Seconds Textual's own shutdown gets after that, before the process just ends."""


class HangUp:
    """The console's SIGHUP handling (install once the app runs)."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self.saved = threading.Event()
        """Set once the draft is written and the agent signed out (or that failed)."""
        self.task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._once = threading.Lock()

    def install(self) -> None:
        """Handle SIGHUP and watch the terminal from now on (call in the main thread)."""
        self._loop = asyncio.get_running_loop()
        with contextlib.suppress(ValueError, AttributeError, OSError):  # not main thread
            signal.signal(signal.SIGHUP, self._on_signal)
        terminal = next((fd for fd in (0, 2) if _isatty(fd)), None)
        if terminal is not None and not self.app.is_headless:
            threading.Thread(
                target=self._watch, args=(terminal,), name="terminal-watch", daemon=True
            ).start()

    def _watch(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, 0)  # only the hang-up (and errors), always reported
        while True:
            try:
                events = poller.poll()
            except InterruptedError:
                continue
            except OSError:
                return
            if any(
                flags & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, flags in events
            ):
                self.trigger()
                return

    def _on_signal(self, _signum: int, _frame: Any) -> None:
        self.trigger()

    def trigger(self) -> None:
        """The terminal is gone: silence it, save, sign out, leave (once; any thread)."""
        if not self._once.acquire(blocking=False):  # another thread (or handler) has it
            return
        try:
            if self._started:
                return
            self._started = True
        finally:
            self._once.release()
        self._silence_terminal()
        threading.Thread(target=self._watchdog, name="hang-up", daemon=True).start()
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the watchdog ends it
                self._loop.call_soon_threadsafe(self._start)

    def _silence_terminal(self) -> None:
        with contextlib.suppress(OSError):
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                with contextlib.suppress(OSError):
                    os.dup2(null, fd)
            os.close(null)
        writer = getattr(getattr(self.app, "_driver", None), "_writer_thread", None)
        output = getattr(writer, "_queue", None)
        if output is not None:  # whatever was queued for the terminal, and all that follows
            threading.Thread(target=_discard, args=(output,), daemon=True).start()

    def _start(self) -> None:
        # A task, not a worker: Textual cancels workers when it exits (a panic from the
        # input thread's EIO included); the app's unmount waits for this instead.
        self.task = asyncio.get_running_loop().create_task(self._leave())

    async def _leave(self) -> None:
        try:
            await self.app.save_and_sign_out()
        finally:
            self.saved.set()
        self.app.exit(return_code=129)  # 128 + SIGHUP, as a shell reports it

    def _watchdog(self) -> None:
        if not self.saved.wait(SAVE_WITHIN):
            with contextlib.suppress(Exception):  # nothing to report to: no terminal
                self.app.save_locally()
        threading.Event().wait(EXIT_GRACE)
        os._exit(129)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _discard(output: Any) -> None:
    while True:
        if output.get() is None:  # the writer's stop: let a live writer see one too
            with contextlib.suppress(Exception):
                output.put_nowait(None)
            return
