"""The customer record on the agent screen at 80×24: branch staff's masked look-up console,
the reveal with a reason, a new customer for an unknown caller (duplicates first), edits kept
as history and restored, duplicates merged and the merge undone."""

from __future__ import annotations

import json

from sqlalchemy import select
from textual.widgets import Checkbox, Input, OptionList

from console.app import ConsoleApp
from console.screens.customer_changes import ChangesScreen, MergeScreen
from console.screens.customer_edit import CustomerForm, NewCustomerForm
from console.screens.customer_record import RecordMenu, RevealScreen
from console.widgets.call_panel import CallPanel
from console.widgets.contact_points import ContactPoints
from core.models import AuditEvent, ContactPoint, Customer
from core.services import Services
from tests.console.conftest import running
from tests.console.test_agent_screen import settle


async def _until_ready(pilot, app: ConsoleApp) -> None:  # type: ignore[no-untyped-def]
    while not app.agent_screen.ready:
        await pilot.pause()
    await settle(pilot)


async def _open(pilot, app: ConsoleApp, customer_id: int) -> None:  # type: ignore[no-untyped-def]
    await app.agent_screen.open_customer(customer_id).wait()
    await settle(pilot)


def _keys(app: ConsoleApp) -> set[str]:
    screen = app.agent_screen
    return {
        b.binding.action
        for b in screen.active_bindings.values()
        if screen.check_action(b.binding.action.split("(")[0], ()) is not False
    }


async def _audit(services: Services, action: str) -> list[AuditEvent]:
    async with services.sessions() as session:
        found = await session.execute(select(AuditEvent).where(AuditEvent.action == action))
        return list(found.scalars())


async def test_branch_staff_get_a_masked_look_up_console_and_reveal_with_a_reason(
    services: Services,
) -> None:
    ana = services.customer_ids[0]  # type: ignore[attr-defined]
    app = ConsoleApp(services, agent_name="walkin")  # not registered: branch staff
    async with running(app, (80, 24)) as pilot:
        await _until_ready(pilot, app)
        keys = _keys(app)
        assert "answer_call" not in keys and "focus_offers" not in keys
        assert "customer_record" not in keys and "take_break" not in keys
        assert not app.agent_screen.query_one("#call-pane").display
        await _open(pilot, app, ana)
        shown = str(app.agent_screen.query_one(ContactPoints).render())
        assert "+34 6•• ••• •78" in shown and "+34 612 345 678" not in shown
        assert "a•••@example.com" in shown
        await pilot.press("f6")  # not offered: nothing happens
        await settle(pilot)
        assert app.agent_screen.query_one(CallPanel).draft is None
        await pilot.press("ctrl+s")  # the record menu is not theirs either
        await settle(pilot)
        assert not isinstance(app.screen, RecordMenu)

        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, RevealScreen)
        await pilot.press("enter")  # no reason: refused, said why
        await settle(pilot)
        assert "Say why" in str(app.screen.query_one("#reveal-problem").render())
        await pilot.press(*"caller checking their address", "enter")
        await settle(pilot)
        revealed = str(app.screen.query_one("#revealed").render())
        assert "+34 612 345 678" in revealed and "Mar 1, 1984" in revealed  # in English
        await pilot.press("escape")
        await settle(pilot)
    reveals = await _audit(services, "reveal")
    assert [(e.actor, e.customer_id, e.detail) for e in reveals] == [
        ("walkin", ana, "caller checking their address")
    ]


async def test_a_new_customer_for_an_unknown_caller_shows_duplicates_before_saving(
    services: Services,
) -> None:
    app = ConsoleApp(services, agent_name="maria", caller="+34 600 999 111")
    async with running(app, (80, 24)) as pilot:
        await _until_ready(pilot, app)
        call = app.agent_screen.query_one(CallPanel).draft
        assert call is not None and call.customer_id is None  # nobody has that number
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RecordMenu)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewCustomerForm)
        assert form.query_one("#new-phone", Input).value == "+34 600 999 111"
        await pilot.press(*"Ana", "tab", *"Garcia Lopez", "tab", "tab", *"not-an-email")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'not-an-email' is not an email" in str(form.query_one("#form-problem").render())
        form.query_one("#new-email", Input).value = "ana.1@example.com"  # Ana García López's
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = str(form.query_one("#new-duplicates").render())
        assert "C00000001 Ana García López: shares email ana.1@example.com" in shown
        assert "differs: name Ana Garcia Lopez / Ana García López" in shown
        assert isinstance(app.screen, NewCustomerForm)  # not saved yet
        await pilot.press("ctrl+s")  # again: saved anyway
        await settle(pilot)
        assert not isinstance(app.screen, NewCustomerForm)
        new_id = app.agent_screen.customer_id
        assert new_id is not None and new_id not in services.customer_ids  # type: ignore[attr-defined]
        call = app.agent_screen.query_one(CallPanel).draft
        assert call is not None and call.customer_id == new_id  # the caller is linked
    async with services.sessions() as session:
        made = await session.get(Customer, new_id)
        points = (
            await session.execute(select(ContactPoint).where(ContactPoint.customer_id == new_id))
        ).scalars()
        assert made is not None and made.last_name == "Garcia Lopez"
        assert sorted(p.value for p in points) == ["+34 600 999 111", "ana.1@example.com"]
    assert [e.customer_id for e in await _audit(services, "create")] == [new_id]


async def test_edits_are_kept_as_history_and_an_old_value_restored(services: Services) -> None:
    luis = services.customer_ids[4]  # type: ignore[attr-defined]
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (80, 24)) as pilot:
        await _until_ready(pilot, app)
        await _open(pilot, app, luis)
        await pilot.press("ctrl+s", "e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomerForm)
        phones = form.query_one("#edit-phones", Input)
        assert phones.value == "+34 655 000 001"
        phones.value = "+34 655 000 001, 91 555 12 34"
        form.query_one("#edit-country", Input).value = "Spain"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Country: 'Spain' is not a two-letter code" in str(
            form.query_one("#form-problem").render()
        )
        assert phones.value == "+34 655 000 001, 91 555 12 34"  # nothing typed is lost
        form.query_one("#edit-country", Input).value = "es"
        form.query_one("#edit-city", Input).value = "Castellón"
        form.query_one("#edit-dnc", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CustomerForm)
        shown = str(app.agent_screen.query_one(ContactPoints).render())
        assert "91 555 12 34" in shown

        await pilot.press("ctrl+s", "h")
        await settle(pilot)
        changes = app.screen
        assert isinstance(changes, ChangesScreen)
        listed = [str(o.prompt) for o in changes.query_one(OptionList).options]
        assert any("maria · city: Valencia → Castellón" in line for line in listed)
        assert any("do-not-call: no → yes" in line for line in listed)
        city = next(i for i, line in enumerate(listed) if "city:" in line)
        changes.query_one(OptionList).highlighted = city
        await pilot.press("enter")
        await settle(pilot)
        assert "Restored city: Valencia" in str(changes.query_one("#changes-note").render())
        await pilot.press("escape")
        await settle(pilot)
    async with services.sessions() as session:
        again = await session.get(Customer, luis)
        assert again is not None
        assert (again.city, again.country, again.do_not_call) == ("Valencia", "ES", True)


async def test_duplicates_are_shown_on_open_merged_and_the_merge_undone(
    services: Services,
) -> None:
    luis, marta = services.customer_ids[4], services.customer_ids[5]  # type: ignore[attr-defined]
    app = ConsoleApp(services, agent_name="maria")
    async with running(app, (80, 24)) as pilot:
        await _until_ready(pilot, app)
        await _open(pilot, app, luis)
        told = [n.message for n in pilot.notes if n.title == "Duplicate?"]  # type: ignore[attr-defined]
        assert told and "C00000006 Marta Pérez (shares phone …655000001)" in told[-1]
        await pilot.press("ctrl+s", "m")
        await settle(pilot)
        merge = app.screen
        assert isinstance(merge, MergeScreen)
        await pilot.press("enter")  # first Enter: which one, and asks again
        await settle(pilot)
        assert "Enter again to merge C00000006" in str(merge.query_one("#merge-note").render())
        await pilot.press("enter")
        await settle(pilot)
        assert "Merged here: C00000006 by maria" in str(merge.query_one("#merge-note").render())
        await pilot.press("escape")
        await settle(pilot)
        shown = str(app.agent_screen.query_one(ContactPoints).render())
        assert "marta.6@example.com" in shown  # every contact point kept
        await pilot.press("ctrl+s", "m")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert any("C00000006 is back" in n.message for n in pilot.notes)  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
    async with services.sessions() as session:
        back = await session.get(Customer, marta)
        assert back is not None and back.external_id == "C00000006"
    merged = await _audit(services, "merge")
    assert [(e.actor, e.customer_id) for e in merged] == [("maria", luis)]
    assert json.dumps([e.action for e in await _audit(services, "unmerge")]) == '["unmerge"]'


async def test_a_call_that_pops_a_customer_with_a_likely_duplicate_says_so_on_the_card(
    services: Services,
) -> None:
    ana = services.customer_ids[0]  # type: ignore[attr-defined]
    async with services.sessions() as session:
        madrid = await session.get(Customer, ana)
        assert madrid is not None and madrid.birth_date is not None
    twin = await services.customers.create(
        "Ana", "Garcia Lopez", emails=["ana.g@correo.es"], city="Getafe",
        birth_date=madrid.birth_date,
    )  # fmt: skip
    app = ConsoleApp(services, agent_name="maria", caller="+34 612 345 678")
    async with running(app, (80, 24)) as pilot:
        await _until_ready(pilot, app)
        for _ in range(500):  # the hint comes after the card is drawn
            if app.agent_screen.query("#duplicate-hint"):
                break
            await pilot.pause()
        hint = app.agent_screen.query_one("#duplicate-hint")
        shown = str(hint.render())
        assert app.agent_screen.customer_id == ana  # popped by the caller's number
        assert f"LIKELY DUPLICATE  {twin.external_id} Ana Garcia Lopez" in shown
        assert "shares name and birth date" in shown
        assert "city Madrid / Getafe" in shown  # what tells them apart
        await _open(pilot, app, services.customer_ids[2])  # type: ignore[attr-defined]
        assert not hint.display  # another customer: no hint


async def test_a_role_changed_by_a_supervisor_is_followed_without_restarting(
    services: Services,
) -> None:
    from console.screens.supervisor import SupervisorScreen, make_supervisor_screen
    from core.models import Role
    from core.privacy.access import AccessDenied

    await services.agents.add("sara", Role.SUPERVISOR)
    app = ConsoleApp(services, agent_name="sara")

    async def until(condition) -> None:  # type: ignore[no-untyped-def]
        for _ in range(2000):  # the change feed brings it within a second or so
            if condition():
                return
            await pilot.pause(0.01)
        assert condition()

    async with running(app, (80, 24)) as pilot:
        await _until_ready(pilot, app)
        await until(lambda: isinstance(app.screen, SupervisorScreen))
        assert app.check_action("toggle_supervisor", ()) is True

        await services.agents.set_role("sara", Role.AGENT)  # `frontline agents set-role`
        await until(lambda: not app.is_supervisor)
        assert app.screen is app.agent_screen  # the supervisor's screens are gone
        assert app.check_action("toggle_supervisor", ()) is False
        await pilot.press("f12")
        await settle(pilot)
        assert app.screen is app.agent_screen
        refused = make_supervisor_screen(services, "sara")  # an action already on screen
        assert refused.set_state is not None
        try:
            await refused.set_state("maria", "available", "")
            raise AssertionError("a demoted supervisor set someone's state")
        except AccessDenied as denied:
            assert "sara (agent) may not change another agent's state" in str(denied)

        ana = services.customer_ids[0]  # type: ignore[attr-defined]
        await _open(pilot, app, ana)
        assert "customer_record" in _keys(app)
        await services.agents.set_role("sara", Role.BRANCH)
        await until(lambda: app.agent_screen.has_class("-lookup"))
        await settle(pilot)
        shown = str(app.agent_screen.query_one(ContactPoints).render())
        assert "+34 6•• ••• •78" in shown and "+34 612 345 678" not in shown  # masked now
        assert "customer_record" not in _keys(app) and "answer_call" not in _keys(app)
        sara = await services.agents.ensure("sara")
        assert sara.state == "offline"  # never offered a call as branch staff
        assert any(n.title == "Your role" and "branch" in n.message for n in pilot.notes)  # type: ignore[attr-defined]

        await services.agents.set_role("sara", Role.SUPERVISOR)
        await until(lambda: app.is_supervisor)
        await until(lambda: not app.agent_screen.has_class("-lookup"))
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)
