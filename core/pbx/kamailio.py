"""`frontline pbx kamailio-config`: a kamailio.cfg that makes Frontline the proxy's ACD.

The configuration is a template shipped beside this module (kamailio.cfg); what varies is
filled in here and checked first, because a quote or a newline in a value would change what
the proxy does rather than fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files

_LISTEN = re.compile(r"^(udp|tcp):[0-9A-Za-z.\-\[\]:]+:\d{1,5}$")
_URL = re.compile(r"^https?://[^\s\"'\\!]+$")
_COMMANDS = re.compile(r"^tcp:[0-9A-Za-z.\-\[\]:]+:\d{1,5}$")
_TOKEN = re.compile(r"^[^\s\"'\\!$]+$")
_NAME = re.compile(r"^[A-Za-z0-9_+.\-]{1,40}$")


REFER_SIDE = "callee"
"""dlg_refer's side argument that sends the REFER to the caller (the dialog module builds the
REFER from the other side's point of view: "callee" is the party the callee talks to)."""


class KamailioConfigError(ValueError):
    """A value that cannot go into the configuration as given."""


@dataclass(frozen=True)
class KamailioOptions:
    api_url: str
    """Frontline's API as Kamailio reaches it, e.g. http://127.0.0.1:8000."""
    token: str
    listen: str = "udp:127.0.0.1:5060"
    ring_seconds: int = 15
    """How long an agent's phone rings before the call goes to the next agent."""
    queues: dict[str, str] = field(default_factory=dict)
    """Dialled number -> queue name; empty: the dialled number is the queue's name."""
    children: int = 4
    """Kamailio worker processes (each waits on its HTTP request in turn)."""
    http_timeout: int = 2
    """Seconds to wait for Frontline before answering the caller 503."""
    retry_seconds: int = 5
    """While nobody is free: how often Kamailio asks again for a waiting call."""
    queue_seconds: int = 120
    """How long a caller waits in the queue for a free agent before being turned away."""
    commands: str = ""
    """tcp:address:port where Kamailio takes Frontline's commands over HTTP (blind transfer by
    REFER, for `frontline pbx listen kamailio`); empty: no commands."""


def render(options: KamailioOptions) -> str:
    """The kamailio.cfg text for `options` (raises KamailioConfigError for a bad value)."""
    _check(options)
    values = {
        "LISTEN": options.listen,
        "API_URL": options.api_url.rstrip("/"),
        "TOKEN": options.token,
        "RING_MS": str(options.ring_seconds * 1000),
        "CHILDREN": str(options.children),
        "HTTP_TIMEOUT": str(options.http_timeout),
        "RETRY_SECONDS": str(options.retry_seconds),
        "MAX_WAITS": str(max(0, -(-options.queue_seconds // options.retry_seconds))),
        "WAIT_MS": str((options.retry_seconds + options.http_timeout + 5) * 1000),
        "QUEUE_MAP": _queue_map(options.queues),
        "COMMANDS_DEFINE": "#!define WITH_COMMANDS" if options.commands else "",
        "COMMANDS_LISTEN": options.commands,
        "SIP_ADDRESS": options.listen.split(":", 1)[1],
        "REFER_SIDE": REFER_SIDE,
    }
    text = files(__package__).joinpath("kamailio.cfg").read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


def _check(options: KamailioOptions) -> None:
    if not _URL.match(options.api_url):
        raise KamailioConfigError(f"not an http(s) URL Kamailio can use: {options.api_url!r}")
    if not _TOKEN.match(options.token):
        raise KamailioConfigError("the token must be one word without quotes, '!' or '$'")
    if not _LISTEN.match(options.listen):
        raise KamailioConfigError(f"listen is proto:address:port, not {options.listen!r}")
    if options.commands and not _COMMANDS.match(options.commands):
        raise KamailioConfigError(
            f"the command listener is tcp:address:port, not {options.commands!r}"
        )
    if not 1 <= options.ring_seconds <= 300:
        raise KamailioConfigError("ring seconds must be between 1 and 300")
    if not 1 <= options.retry_seconds <= 100:  # async_route's limit
        raise KamailioConfigError("retry seconds must be between 1 and 100")
    if not 0 <= options.queue_seconds <= 3600:
        raise KamailioConfigError("queue seconds must be between 0 and 3600")
    for number, queue in options.queues.items():
        if not (_NAME.match(number) and _NAME.match(queue)):
            raise KamailioConfigError(f"queue numbers and names are plain words: {number}={queue}")


_UNKNOWN_QUEUE = """    } else {
        sl_send_reply("404", "No Such Queue");
        exit;
    }"""


def _queue_map(queues: dict[str, str]) -> str:
    if not queues:
        return "    $var(queue) = $rU;"
    lines = []
    for i, (number, queue) in enumerate(queues.items()):
        keyword = "if" if i == 0 else "} else if"
        lines.append(f'    {keyword} ($rU == "{number}") {{\n        $var(queue) = "{queue}";')
    lines.append(_UNKNOWN_QUEUE)
    return "\n".join(lines)


__all__ = ["KamailioConfigError", "KamailioOptions", "render"]
