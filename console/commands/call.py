"""`frontline call …`: report call events from a shell script, like a phone system would.

By default the event is applied directly to the configured database (no server needed, for
scripts on the database host). With `--url` it goes through a running `frontline api`
instead, with a bearer token, an idempotency key and retries, exactly like a phone system.
Each command prints the call afterwards as one line of JSON; a refused event prints the
reason on stderr and exits with status 1.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click

from console.commands.i18n import N_, _
from core.calls.events import CallEventError, EventRequest
from core.config import Settings
from core.db import DatabaseUnavailable
from core.errors import plain_reason
from core.models import AgentState, CallEventKind
from core.privacy.access import AccessDenied
from core.services import open_services


@dataclass(frozen=True)
class Target:
    settings: Settings
    url: str
    token: str


def _parse_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            _("not an ISO 8601 time: {value!r}").format(value=value), param_hint="--at"
        ) from error
    if at.tzinfo is None:
        raise click.BadParameter(
            _("give the UTC offset, e.g. 2026-05-04T09:00:00+02:00"), param_hint="--at"
        )
    return at


@click.group()
@click.option(
    "--url",
    default="",
    help=N_(
        "Send through this `frontline api` (e.g. http://127.0.0.1:8080) instead of the "
        "database (default: FRONTLINE_API_URL)."
    ),
)
@click.option(
    "--token", default="", help=N_("Bearer token for --url (default: FRONTLINE_API_TOKEN).")
)
@click.pass_context
def call(ctx: click.Context, url: str, token: str) -> None:
    """Report call events (queue, offer, answer, hold, unhold, end, abandon, complete, state);
    close stale calls (sweep).

    CALL is Frontline's call id, or the phone system's id with --external.
    """
    settings: Settings = ctx.obj
    url = url or settings.api.url
    token = token or settings.api.token
    if url and not token:
        token = next(iter(settings.api_tokens), "")
    ctx.obj = Target(settings=settings, url=url.rstrip("/"), token=token)


def _run(target: Target, request: EventRequest, body: dict[str, Any]) -> None:
    if target.url:
        result = _through_api(target, request.kind.value, body, request.idempotency_key)
    else:
        result = asyncio.run(_direct(target.settings, request))
    click.echo(json.dumps(result, ensure_ascii=False))


async def _direct(settings: Settings, request: EventRequest) -> dict[str, Any]:
    try:
        async with open_services(settings) as services:
            return (await services.events.apply(request)).as_json()
    except CallEventError as error:
        raise click.ClickException(str(error)) from error
    except DatabaseUnavailable as error:
        raise click.ClickException(
            _("database busy, try again: {error}").format(
                error=plain_reason(error, settings.resolved_database_url)
            )
        ) from error


def _through_api(
    target: Target, path: str, body: dict[str, Any], key: str | None
) -> dict[str, Any]:
    import httpx

    if path in {k.value for k in CallEventKind}:
        path = f"/v1/calls/{path}"
    headers = {
        "Authorization": f"Bearer {target.token}",
        "Idempotency-Key": key or str(uuid.uuid4()),
    }
    last = ""
    for attempt in range(4):  # the same key on every attempt: applied once however many
        try:
            response = httpx.post(f"{target.url}{path}", json=body, headers=headers, timeout=10)
        except httpx.TransportError as error:
            last = f"cannot reach {target.url}: {error}"
        else:
            if response.status_code < 300:
                result: dict[str, Any] = response.json()
                return result
            if response.status_code != 503:
                raise click.ClickException(f"{response.status_code}: {_detail(response)}")
            last = _detail(response)
        time.sleep(0.5 * (attempt + 1))
    raise click.ClickException(last)


def _detail(response: Any) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return str(response.text)
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
    return str(detail)


def _ref(call_ref: str, external: bool) -> dict[str, Any]:
    if external:
        return {"external_id": call_ref}
    if not call_ref.isdigit():
        raise click.BadParameter(
            _(
                "{ref!r} is not a Frontline call id (use --external for the phone system's id)"
            ).format(ref=call_ref),
            param_hint="CALL",
        )
    return {"call_id": int(call_ref)}


def _event(
    target: Target,
    kind: CallEventKind,
    ref: dict[str, Any],
    at: str | None,
    key: str | None,
    **extra: Any,
) -> None:
    when = _parse_at(at)
    body = {**ref, **{k: v for k, v in extra.items() if v}}
    if when is not None:
        body["at"] = when.isoformat()
    request = EventRequest(
        kind=kind,
        call_id=ref.get("call_id"),
        external_id=ref.get("external_id"),
        at=when,
        idempotency_key=key,
        **{k: v for k, v in extra.items() if v},
    )
    _run(target, request, body)


_at = click.option(
    "--at", metavar="TIME", help=N_("When it happened (ISO 8601 with offset); default now.")
)
_key = click.option(
    "--key", metavar="KEY", help=N_("Idempotency key: a retry with it is applied once.")
)
_external = click.option(
    "--external", is_flag=True, help=N_("CALL is the phone system's id for the call.")
)


@call.command("queue")
@click.argument("number")
@click.option("--queue", "queue_name", default="", help=N_("The queue's name."))
@click.option("--external-id", default=None, help=N_("The phone system's id for the call."))
@_at
@_key
@click.pass_obj
def queue_(
    target: Target,
    number: str,
    queue_name: str,
    external_id: str | None,
    at: str | None,
    key: str | None,
) -> None:
    """A call from NUMBER reached the queue."""
    extra: dict[str, Any] = {"caller_number": number, "queue": queue_name}
    ref = {"external_id": external_id} if external_id else {}
    _event(target, CallEventKind.QUEUED, ref, at, key, **extra)


@call.command()
@click.argument("call_ref", metavar="CALL")
@click.argument("agent")
@_external
@_at
@_key
@click.pass_obj
def offer(
    target: Target, call_ref: str, agent: str, external: bool, at: str | None, key: str | None
) -> None:
    """The call rings at AGENT (user name)."""
    _event(target, CallEventKind.OFFERED, _ref(call_ref, external), at, key, agent=agent)


@call.command()
@click.argument("call_ref", metavar="CALL")
@click.option("--agent", default="", help=N_("Who answered, when the call was not offered first."))
@_external
@_at
@_key
@click.pass_obj
def answer(
    target: Target, call_ref: str, agent: str, external: bool, at: str | None, key: str | None
) -> None:
    """The agent picked the call up."""
    _event(target, CallEventKind.ANSWERED, _ref(call_ref, external), at, key, agent=agent)


def _simple(name: str, kind: CallEventKind, help_text: str) -> None:
    @click.argument("call_ref", metavar="CALL")
    @_external
    @_at
    @_key
    @click.pass_obj
    def command(
        target: Target, call_ref: str, external: bool, at: str | None, key: str | None
    ) -> None:
        _event(target, kind, _ref(call_ref, external), at, key)

    command.__doc__ = help_text
    call.command(name)(command)


_simple("hold", CallEventKind.HELD, "The agent put the caller on hold.")
_simple("unhold", CallEventKind.UNHELD, "The caller is back from hold.")
_simple("end", CallEventKind.ENDED, "The call ended; the agent's wrap-up starts.")
_simple("abandon", CallEventKind.ABANDONED, "The caller hung up before an agent answered.")
_simple("complete", CallEventKind.COMPLETED, "The agent finished wrap-up and is ready again.")


@call.command()
@click.argument("agent")
@click.argument("state", type=click.Choice(["available", "break", "offline"]))
@click.option("--reason", default="", help=N_("Why, for a break (lunch, training…)."))
@click.pass_obj
def state(target: Target, agent: str, state: str, reason: str) -> None:
    """Put AGENT in STATE (available, break with --reason, offline)."""
    if target.url:
        body: dict[str, Any] = {"state": state, "reason": reason}
        result = _through_api(target, f"/v1/agents/{agent}/state", body, None)
        click.echo(json.dumps(result, ensure_ascii=False))
        return

    async def direct() -> dict[str, Any]:
        try:
            async with open_services(target.settings) as services:
                done = await services.events.set_agent_state(
                    agent, AgentState(state), reason, by=target.settings.who
                )
        except (CallEventError, AccessDenied) as error:
            raise click.ClickException(str(error)) from error
        return {
            "agent": done.user_name,
            "state": done.state,
            "reason": done.reason,
            "since": done.since.isoformat(),
        }

    click.echo(json.dumps(asyncio.run(direct()), ensure_ascii=False))


@call.command()
@click.option(
    "--after",
    "after_minutes",
    type=click.IntRange(min=1),
    default=None,
    help=N_("Minutes without an event (default: FRONTLINE_CALL_STALE_AFTER_MINUTES)."),
)
@click.pass_obj
def sweep(target: Target, after_minutes: int | None) -> None:
    """Close the calls whose end never arrived, once (`frontline api` does it every minute).

    Prints the closed calls as one line of JSON.
    """
    minutes = after_minutes or target.settings.calls.stale_after_minutes

    async def direct() -> list[dict[str, Any]]:
        try:
            async with open_services(target.settings) as services:
                closed = await services.events.sweep_stale(timedelta(minutes=minutes))
        except DatabaseUnavailable as error:
            raise click.ClickException(
                _("database busy, try again: {error}").format(
                    error=plain_reason(error, target.settings.resolved_database_url)
                )
            ) from error
        return [result.as_json() for result in closed]

    closed = asyncio.run(direct())
    click.echo(json.dumps({"closed": len(closed), "calls": closed}, ensure_ascii=False))
