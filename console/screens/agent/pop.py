"""The screen pop on the agent screen: a call rings here, the caller's record opens.

A mixin of AgentScreen. The app's change feed tells the screen that something moved; the
watcher (console.screen_pop.OfferWatcher) says which calls newly ring at this agent; each one
pops once: one customer with the number opens, several offer a picker, none starts the call
for an unknown caller. A call transferred here opens the customer the last agent had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from console.i18n import N_, _
from console.key_names import keyed
from console.safe_text import clean
from console.screens.pickers import UNKNOWN, CallerPicker

if TYPE_CHECKING:
    from console.screen_pop import OfferWatcher
    from console.screens.agent.screen import AgentScreen

    _Base = AgentScreen
else:
    _Base = object


MESSAGES = {
    "caller-waits": (
        N_(
            "Your unfinished call is back, so the call from {number} (--caller) was not opened. "
            "The number is in the search box: save the restored call ({finish-call}), then open "
            "the caller and take the call ({answer-call})."
        )
    ),
}
"""What the agent reads (one place, for the translation layer)."""


class ScreenPop(_Base):
    """Which calls ring here, and popping each one."""

    def follow_offers(self, watcher: OfferWatcher) -> None:
        """Pop every call that `watcher` finds ringing at this agent, from now on."""
        self._offer_watcher = watcher
        if self.ready:
            self.look_for_offers()

    def look_for_offers(self) -> None:
        """Ask which calls ring here; never two looks at once, and none missed meanwhile."""
        if self._looking:
            self._look_again = True
            return
        self._looking = True
        self._look()

    @work(group="screen-pop-look", exit_on_error=False)
    async def _look(self) -> None:
        assert self._offer_watcher is not None
        try:
            while True:
                self._look_again = False
                for call in await self._offer_watcher.new_offers():
                    self.post_message(self.CallOffered(call.caller_number, call.call_id))
                if not self._look_again:
                    break
        finally:
            self._looking = False

    def pop_initial_caller(self, caller_number: str) -> None:
        """`frontline --caller NUMBER` once the agent is signed in: popped like a ringing
        call; but an unfinished call restored on start comes first (its words are the
        agent's, and one call is on screen at a time). Then the agent is told so, and the
        number waits in the search box, its customers listed, to open or call next."""
        if self.draft is None:
            self.pop_caller(caller_number, None)
            return
        self.notify(
            keyed(self, _(MESSAGES["caller-waits"]), number=clean(caller_number)),
            title=_("Caller not opened"),
            severity="warning",
            timeout=20,
        )
        from console.widgets.search_box import SearchBox

        self.query_one("#search", SearchBox).value = caller_number

    def pop_caller(self, caller_number: str, call_id: int | None) -> None:
        """A call arrives from `caller_number`: open their record and start the call.

        One match opens it; several offer a picker; none starts the call for an unknown
        caller, with the number kept for the call log.
        """
        self._pop(caller_number, call_id)

    @work(group="screen-pop", exit_on_error=False)
    async def _pop(self, caller_number: str, call_id: int | None) -> None:
        if self.draft is not None:
            self.notify(
                _("Call from {number} while you are on a call.").format(
                    number=clean(caller_number)
                ),
                severity="warning",
            )
            return
        known = await self._known_caller(call_id)
        if known is not None:  # a transferred call: the customer the last agent had open
            await self._open_and_take(known, caller_number, call_id)
            return
        try:
            hits = await self.services.search.by_phone(caller_number, limit=10)
        except Exception as error:  # noqa: BLE001
            self.notify(
                _("Could not look the caller up: {error}").format(error=error),
                severity="error",
                markup=False,
            )
            hits = []
        if len(hits) == 1:
            await self._open_and_take(hits[0].customer_id, caller_number, call_id)
        elif hits:

            async def picked(customer_id: int | None) -> None:
                if customer_id is None:
                    return
                if customer_id == UNKNOWN:
                    self._take_unknown(caller_number, call_id)
                else:
                    self._open_and_take_worker(customer_id, caller_number, call_id)

            self.app.push_screen(CallerPicker(clean(caller_number), hits), picked)
        else:
            self._take_unknown(caller_number, call_id)

    async def _known_caller(self, call_id: int | None) -> int | None:
        """The customer already linked to the call (one transferred here), if any."""
        if call_id is None:
            return None
        try:
            return (await self.services.calls.get(call_id)).customer_id
        except Exception as error:  # noqa: BLE001 - look the number up instead
            self.log.warning(f"call {call_id} not read: {error!r}")
            return None

    def _take_unknown(self, caller_number: str, call_id: int | None) -> None:
        self.notify(
            _("Unknown caller {number}: search for them, or log the call as it is.").format(
                number=clean(caller_number)
            ),
            title=_("Unknown caller"),
            timeout=8,
        )
        self.take_call(None, caller_number, call_id)

    @work(group="screen-pop-open", exit_on_error=False)
    async def _open_and_take_worker(
        self, customer_id: int, caller_number: str, call_id: int | None
    ) -> None:
        await self._open_and_take(customer_id, caller_number, call_id)

    async def _open_and_take(
        self, customer_id: int, caller_number: str, call_id: int | None
    ) -> None:
        await self.open_customer(customer_id, with_offers=False).wait()
        if self.customer_id == customer_id:
            await self.take_call(customer_id, caller_number, call_id, show_call=False).wait()
