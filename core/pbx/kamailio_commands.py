"""Commands for calls behind Kamailio: `frontline pbx listen kamailio`.

Kamailio reports its calls itself (HTTP from its script, `core.pbx.kamailio`); what it needs
from Frontline is the agent's blind transfer. This runner takes the pending `kamailio`
commands from the outbox (`CommandRunner`) and POSTs each to the command listener of the
generated configuration (`frontline pbx kamailio-config --commands tcp:ADDR:PORT`):

    POST /frontline/refer  {"call": <Frontline's id for the call>}

Kamailio finds the call's answered dialog (the one it routed for that id: after a transfer,
the caller's new one), sends the caller an in-dialog REFER (Refer-To
`sip:xfer.<id>@<proxy>`) in the agent's name and hangs the agent's phone up. 200 means the
REFER went out: the runner records the command done and the call `transferred` (to the
agent, it is offered to them; to a queue, it waits there). The caller's phone then dials the
Refer-To, which Kamailio routes through `POST /v1/route` as the same call: the target agent's
phone rings, and their console opens the customer with the hand-off.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from core.calls.errors import CallEventError
from core.calls.model import EventRequest
from core.db import DatabaseUnavailable
from core.i18n import words as _
from core.models import PbxCommand, PbxCommandKind
from core.pbx.adapter import PbxError, Sink
from core.pbx.commands import CommandRunner, PbxCommandService

log = logging.getLogger("core.pbx")

SOURCE = "kamailio"
DEFAULT_PORT = 5090
"""The command listener's port when `--port` is not given."""


class KamailioCommands:
    """Sends Frontline's commands for Kamailio calls to Kamailio's command listener."""

    source = SOURCE

    def __init__(
        self, url: str, token: str, sink: Sink, client: httpx.AsyncClient | None = None
    ) -> None:
        self._url = url.rstrip("/")
        self._sink = sink
        self._client = client or httpx.AsyncClient(timeout=5)
        self._headers = {"Authorization": f"Bearer {token}"}
        self.connected = asyncio.Event()
        """Always set: each command is one HTTP request (a Kamailio that is down fails it)."""
        self.connected.set()

    async def send(self, command: PbxCommand) -> str:
        """Carry one command out on Kamailio; its answer, or PbxError saying why not."""
        if PbxCommandKind(command.kind) != PbxCommandKind.BLIND_TRANSFER:
            raise PbxError(_("Kamailio takes blind transfers only"))
        body = {"call": command.call_id}
        try:
            response = await self._client.post(
                f"{self._url}/frontline/refer", json=body, headers=self._headers
            )
        except httpx.TransportError as error:
            raise PbxError(
                _("cannot reach Kamailio at {url}: {error}").format(url=self._url, error=error)
            ) from error
        if response.status_code == 200:
            return response.text
        if response.status_code == 401:
            raise PbxError(_("Kamailio refused the token (give the one in its kamailio.cfg)"))
        if response.status_code == 404:
            raise PbxError(_("Kamailio has no answered call with that id (it ended?)"))
        raise PbxError(
            _("Kamailio answered {status}: {text}").format(
                status=response.status_code, text=response.text[:200]
            )
        )

    async def report(self, request: EventRequest) -> object:
        """Apply the transfer the REFER means, retried while the database is unavailable (same
        key: applied once)."""
        delay = 0.2
        while True:
            try:
                result = await self._sink(request)
            except DatabaseUnavailable as error:
                log.warning("%s: database unavailable (%s); retrying", self.source, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except CallEventError as error:  # the call moved on meanwhile: say so, go on
                log.warning("%s: %s refused: %s", self.source, request.kind.value, error)
                return None
            else:
                log.info("%s: call %s is %s", self.source, result.call_id, result.state)
                return result

    def commands(self, outbox: PbxCommandService) -> CommandRunner:
        """The runner of the `kamailio` commands (run it until cancelled)."""
        return CommandRunner(outbox, self.source, self.send, self.report, self.connected)

    async def close(self) -> None:
        await self._client.aclose()


__all__ = ["DEFAULT_PORT", "SOURCE", "KamailioCommands"]
