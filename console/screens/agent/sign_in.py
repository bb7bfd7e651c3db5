"""Signing the agent in when the services are there, and bringing back an unfinished call.

A mixin of AgentScreen. Who the agent is comes from the identity the console was started
with; their saved draft (the database's, or the fallback file's when the database was down)
or, failing that, the call the database still has open for them, is shown again as it was,
with the consult under way if there was one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from console.i18n import _
from console.screens.agent.call_follow import state_label
from console.screens.agent.drafts import draft_of
from console.widgets.call_panel import CallPanel

if TYPE_CHECKING:
    from console.screens.agent.screen import AgentScreen
    from core.calls.drafts import CallDraft

    _Base = AgentScreen
else:
    _Base = object


class SignIn(_Base):
    """Start-up: the agent signed in, their unfinished call restored."""

    @work(group="start-up", exit_on_error=False)
    async def start_up(self) -> None:
        try:
            self.agent = await self.services.agents.ensure(self.agent_name)
        except Exception as error:  # noqa: BLE001 - the agent must know why nothing saves
            self.notify(
                _("Cannot reach the database: {error}").format(error=error),
                severity="error",
                timeout=30,
                markup=False,
            )
            return
        assert self.agent.id is not None
        await self.sign_in_as_role()  # branch staff: a look-up console, not signed in for calls
        self.agent = await self.services.agents.ensure(self.agent_name)  # its state now
        self._shown_state = state_label(self.agent.state, self.agent.state_reason)
        self._set_subtitle()
        saved = await self.services.drafts.load(self.agent.id)
        if saved is not None:
            self._restore(saved.draft, in_database=not saved.from_fallback)
            if saved.closed_elsewhere:
                self._restored_closed()
        else:
            draft = draft_of(await self.services.calls.active_call(self.agent.id))
            if draft is not None:  # a call still theirs, without a draft
                self._restore(draft, in_database=False)
        await self.restore_consult()  # a consult under way when the console went (transfer.py)
        self.signed_in.set()
        self.answer_if_asked()
        if self.initial_caller:  # `--caller`: popped, or said why not (pop.py)
            self.pop_initial_caller(self.initial_caller)
        if self._offer_watcher is not None:
            self.look_for_offers()

    def _restore(self, draft: CallDraft, in_database: bool) -> None:
        self.query_one(CallPanel).show(draft)
        self.keeper.restored(draft, in_database)
        # Offers shown before the restart are not on screen any more: nothing to answer.
        self._offers_open = set()
        self.refresh_bindings()
        self._set_subtitle()
        self.notify(_("Your unfinished call is back, as you left it."), title=_("Call restored"))
        if draft.customer_id is not None:
            self.open_customer(draft.customer_id, with_offers=False)

    async def _save_draft(self, draft: CallDraft) -> bool:
        if self.agent is None or self.agent.id is None:
            return True  # not signed in: nothing to save under (start-up said why)
        return await self.services.drafts.save(self.agent.id, draft)
