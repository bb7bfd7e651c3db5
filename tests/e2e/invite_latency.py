"""How long a SIP INVITE to a queue takes to ring an agent through Kamailio and Frontline.

    python -m tests.e2e.invite_latency [CALLS]

Each call is an INVITE sent to Kamailio; the time is taken when the chosen agent's phone
receives it, i.e. after Kamailio asked `POST /v1/route` and Frontline queued the call, chose
the agent and stored the offer. Not a test: a figure for the docs (docs/kamailio.md).
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.sip_stack import CALLER, sip_stack


def _invite(sip_port: int, local: int, n: int) -> bytes:
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    sdp += "m=audio 6000 RTP/AVP 0\r\n"
    return (
        f"INVITE sip:bench@127.0.0.1:{sip_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-lat-{n}-{time.time_ns()}\r\n"
        f"From: <sip:{CALLER}@127.0.0.1:{local}>;tag=lat{n}\r\n"
        f"To: <sip:bench@127.0.0.1:{sip_port}>\r\nCall-ID: latency-{n}-{time.time_ns()}\r\n"
        f"CSeq: 1 INVITE\r\nContact: <sip:{CALLER}@127.0.0.1:{local}>\r\nMax-Forwards: 70\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as workdir, sip_stack(Path(workdir)) as stack:
        phones = []
        for n in range(calls):
            phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            phone.bind(("127.0.0.1", 0))
            phone.settimeout(5)
            stack.agent(f"bench{n:03d}", phone.getsockname()[1], "bench")
            phones.append(phone)
        caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        caller.bind(("127.0.0.1", 0))
        seconds = []
        for n in range(calls):
            started = time.perf_counter()
            caller.sendto(
                _invite(stack.sip_port, caller.getsockname()[1], n), ("127.0.0.1", stack.sip_port)
            )
            phones[n].recv(65535)  # the agents are rung in the order they became ready
            seconds.append(time.perf_counter() - started)
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * len(ms)))]
        sys.stdout.write(
            f"{calls} INVITEs, INVITE -> agent's phone rings: "
            f"median {statistics.median(ms):.1f} ms, "
            f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms\n"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
