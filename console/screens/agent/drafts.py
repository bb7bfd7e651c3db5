"""DraftKeeper: the agent's draft written within DRAFT_DELAY of a change, whatever happens.

The call panel sends every edit up as a new version of the draft; the keeper holds the
newest and writes it: a new call or a new phase at once, typing at most DRAFT_DELAY after
the first unsaved keystroke (not a debounce that restarts on every key, so a long sentence
is saved mid-way). One write at a time; edits made during a write cause exactly one more.
While the database does not answer the draft is kept on this machine and retried.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from console.i18n import _

if TYPE_CHECKING:  # the console is drawn before the database layer is imported
    from textual.screen import Screen
    from textual.timer import Timer

    from core.calls.drafts import CallDraft
    from core.models import Call

DRAFT_DELAY = 1.0
"""Seconds from the first unsaved keystroke to the draft write (the promise is 2 s)."""
DRAFT_RETRY = 3.0
"""Seconds between attempts while the database is unavailable."""

Save = Callable[["CallDraft"], Awaitable[bool]]
"""Writes a draft; False when only the local fallback file has it."""


class DraftKeeper:
    """Keeps the newest draft of the screen's call and writes it on time."""

    def __init__(self, screen: Screen[object], save: Save) -> None:
        self._screen = screen
        self._save = save
        self.draft: CallDraft | None = None
        """The newest draft of the call on screen; None when there is no call."""
        self._saved: tuple[int | None, int] | None = None
        """(call id, version) of the draft last written to the database."""
        self._timer: Timer | None = None
        self._due_at = 0.0
        self._saving = False
        self._dirty = False
        self.offline = False
        """True while the database does not answer (the draft is on this machine only)."""

    def changed(self, draft: CallDraft | None) -> None:
        """The call changed: write a new call or phase now, anything else soon."""
        previous, self.draft = self.draft, draft
        if draft is None:
            self.stop()
            self._saved = None
            return
        # A consult starting or ending too: a console restarted mid-consult must find it.
        at_once = previous is None or (
            previous.call_id,
            previous.phase,
            previous.customer_id,
            previous.consulting,
        ) != (draft.call_id, draft.phase, draft.customer_id, draft.consulting)
        self.schedule(now=at_once)

    def restored(self, draft: CallDraft, in_database: bool) -> None:
        """A draft read back on start: written again only if the database lacks it."""
        self.draft = draft
        self._saved = (draft.call_id, draft.version) if in_database else None
        if not in_database:
            self.schedule(now=True)

    def schedule(self, now: bool = False, delay: float = DRAFT_DELAY) -> None:
        """Write the draft now, or within `delay` (an earlier deadline already set stands)."""
        if now:
            self.stop()
            self._start_saving()
            return
        due = time.monotonic() + delay
        if self._timer is not None:
            if self._due_at <= due:
                return
            self._timer.stop()  # a slow retry must not hold back fresh typing
        self._due_at = due
        self._timer = self._screen.set_timer(delay, self._due)

    def stop(self) -> None:
        """No write pending (the call is being saved, or gone)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _due(self) -> None:
        self._timer = None
        self._start_saving()

    def _start_saving(self) -> None:
        self._screen.run_worker(self._save_loop(), group="draft", exit_on_error=False)

    async def _save_loop(self) -> None:
        if self._saving:
            self._dirty = True
            return
        self._saving = True
        try:
            while True:
                self._dirty = False
                await self.flush()
                if not self._dirty:
                    break
        finally:
            self._saving = False

    async def flush(self, force: bool = False) -> None:
        """Write the newest draft now (also when the console closes); `force` writes it
        even if this version was written already."""
        draft = self.draft
        if draft is None or (not force and (draft.call_id, draft.version) == self._saved):
            return
        saved = await self._save(draft)
        if not saved:
            if not self.offline:
                self._screen.notify(
                    _(
                        "The database is not answering. Keep typing: your notes are kept on this "
                        "machine and saved as soon as it is back."
                    ),
                    title=_("Draft kept locally"),
                    severity="warning",
                    timeout=10,
                )
            self.offline = True
            self.schedule(delay=DRAFT_RETRY)
            return
        self._saved = (draft.call_id, draft.version)
        if self.offline:
            self.offline = False
            self._screen.notify(
                _("The database is back: your draft is saved."), title=_("Draft saved")
            )


def draft_of(active: Call | None) -> CallDraft | None:
    """A draft for an answered call that is still the agent's but has none (after a crash
    before the first draft was written); None for no call, or one never answered."""
    if active is None or active.id is None or active.answered_at is None:
        return None
    from core.calls.drafts import CallDraft

    return CallDraft(
        phase="wrap_up" if active.state == "wrap_up" else "on_call",
        call_id=active.id,
        customer_id=active.customer_id,
        caller=_("Unknown caller") if active.customer_id is None else _("Customer"),
        caller_number=active.caller_number,
        started_at=active.answered_at,
        ended_at=active.ended_at,
    )
