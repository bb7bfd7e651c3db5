"""`frontline pbx kamailio-config` and `frontline pbx agent-contact` from the command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from console.cli import frontline
from tests.e2e.sip_stack import kamailio_binary


def run(args: list[str], db_url: str = "", tokens: str = "") -> tuple[int, str, str]:
    env = {
        "FRONTLINE_DATABASE_URL": db_url,
        "FRONTLINE_API_TOKENS": tokens,
        "FRONTLINE_ENV_FILE": "/nonexistent",
    }
    result = CliRunner().invoke(frontline, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


BASE = ["pbx", "kamailio-config", "--api-url", "http://127.0.0.1:8080/"]


def test_the_config_carries_the_api_the_token_and_the_queue_numbers() -> None:
    code, cfg, _ = run([*BASE, "--queue", "700=sales", "--queue", "701=support"], tokens="tok1,t2")
    assert code == 0
    assert "@@" not in cfg  # every placeholder filled
    assert "listen=udp:127.0.0.1:5060" in cfg
    assert "!FRONTLINE_API!http://127.0.0.1:8080!g" in cfg
    assert "Authorization: Bearer tok1!g" in cfg  # the first API token by default
    assert 'if ($rU == "700") {\n        $var(queue) = "sales";' in cfg
    assert '} else if ($rU == "701") {\n        $var(queue) = "support";' in cfg
    assert 'sl_send_reply("404", "No Such Queue")' in cfg
    # Without --queue, the number dialled is the queue's name.
    _, plain, _ = run([*BASE, "--token", "other", "--ring-seconds", "7"])
    assert "$var(queue) = $rU;" in plain and "No Such Queue" not in plain
    assert 'modparam("tm", "fr_inv_timer", 7000)' in plain
    # A caller waits up to 120 s, asking every 5 s: 24 waits.
    assert "$avp(waits) < 24" in plain and 'async_route("WAITED", "5")' in plain
    # Commands (blind transfers from the consoles) only when asked for.
    assert "#!define WITH_COMMANDS" not in plain and "listen=tcp:" not in plain


def test_the_command_listener_takes_transfers_with_the_same_token() -> None:
    code, cfg, _ = run([*BASE, "--token", "tok", "--commands", "tcp:127.0.0.1:5090"])
    assert code == 0 and "@@" not in cfg
    assert "#!define WITH_COMMANDS" in cfg and "listen=tcp:127.0.0.1:5090" in cfg
    assert '$hdr(Authorization) != "Bearer tok"' in cfg
    # The caller is referred to this proxy's own address, to an id only Frontline gives.
    assert 'dlg_refer("callee", "<sip:xfer.$var(refer)@127.0.0.1:5060>")' in cfg


@pytest.mark.parametrize(
    "extra",
    [
        ["--token", 'a"b'],
        ["--token", "t", "--listen", "127.0.0.1"],
        ["--token", "t", "--queue", "700=sa les"],
        ["--token", "t", "--queue", "700"],
        ["--token", "t", "--retry-seconds", "101"],
        ["--token", "t", "--commands", "udp:127.0.0.1:5090"],
        ["--token", "t", "--commands", "tcp:127.0.0.1:5090\nx"],
    ],
)
def test_values_that_would_change_the_script_are_refused(extra: list[str]) -> None:
    code, out, err = run([*BASE, *extra])
    assert code != 0 and out == ""
    assert err.strip()


def test_no_token_is_an_error() -> None:
    code, _, err = run(BASE)
    assert code == 1 and "no token" in err


def test_the_kamailio_command_runner_needs_the_database_and_a_token() -> None:
    listen = ["pbx", "listen", "kamailio"]
    code, _, err = run([*listen, "--api", "http://127.0.0.1:8080"], tokens="t")
    assert code == 2 and "need the database" in err
    code, _, err = run(listen)
    assert code == 1 and "no token" in err


@pytest.mark.parametrize("commands", [[], ["--commands", "tcp:127.0.0.1:5998"]])
def test_kamailio_accepts_the_config(tmp_path: Path, commands: list[str]) -> None:
    kamailio = kamailio_binary()
    if kamailio is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kamailio is not installed (scripts/install-system-deps)")
        pytest.skip("kamailio is not installed")
    args = [*BASE, "--token", "t", "--listen", "udp:127.0.0.1:5999", "--queue", "7=q", *commands]
    _, cfg, _ = run(args)
    path = tmp_path / "kamailio.cfg"
    path.write_text(cfg, encoding="utf-8")
    checked = subprocess.run(
        [kamailio, "-c", "-f", str(path)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr[-2000:]


def test_an_agent_contact_is_set_from_the_command_line(sqlite_url: str) -> None:
    code, out, _ = run(
        ["pbx", "agent-contact", "ana", "sip:ana@10.0.0.5:5060", "--queues", "sales,vip"],
        db_url=sqlite_url,
    )
    assert (code, out) == (0, "ana: sip:ana@10.0.0.5:5060, queues: sales, vip\n")
    code, out, _ = run(["pbx", "agent-contact", "ana", ""], db_url=sqlite_url)
    assert out == "ana: (no contact), queues: sales, vip\n"
    code, _, err = run(["pbx", "agent-contact", "ana", "ana@home"], db_url=sqlite_url)
    assert code == 2 and "sip:" in err
