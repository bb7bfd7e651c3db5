"""The faults the suite injects, and running one write of the matrix under one of them.

- `locked`: another connection holds SQLite's write lock (`BEGIN EXCLUSIVE`), then lets go;
- `down`: PostgreSQL stopped at once (a throwaway cluster of the suite's own), then started;
- `killed`: the writing process gets SIGKILL in the middle of its writes;
- `hung up`: the console's terminal closes (SIGHUP) while the agent types.

Each run returns a `Run`: writes tried, acknowledged, lost, half-written, and what the user
was told while the fault lasted.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import plain_reason
from core.services import Services, make_services
from tests.faults.writes import FRONTLINE, SLOTS, Refused, Target, Verdict, Write
from tests.sqlite_lock import Lock

RECOVERY = SLOTS - 1
"""The number of the write made after a kill: one no run reaches before it."""
LOCK_WAIT_MS = 300
"""How long a write waits on SQLite's lock before it fails (5 s in production)."""


@dataclass
class Run:
    """One write under one fault."""

    write: str
    fault: str
    tried: int = 0
    acked: list[int] = field(default_factory=list)
    told: list[str] = field(default_factory=list)
    """What the user was told of each write that was not acknowledged."""
    notices: list[str] = field(default_factory=list)
    """What the user was told of acknowledged writes kept another way (a local draft)."""
    verdict: Verdict = field(default_factory=Verdict)
    recovered: bool = False
    """The next write after the fault was acknowledged, without a restart."""

    def attempt_result(self, n: int, told: str | None) -> None:
        self.tried += 1
        if told is None:
            self.acked.append(n)
        else:
            self.told.append(told)


async def attempt(run: Run, write: Write, target: Target, services: Services, n: int) -> bool:
    try:
        notice = await write.once(target, services, n)
    except Refused as refused:
        run.attempt_result(n, str(refused))
        return False
    except Exception as error:  # noqa: BLE001 - the front end shows this text
        run.attempt_result(n, plain_reason(error, target.url))
        return False
    run.attempt_result(n, None)
    if notice:
        run.notices.append(notice)
    return True


async def under_fault(write: Write, target: Target, fault: str, start: object, end: object) -> Run:
    """Write 0 before the fault (not for a command: it starts afresh each time), write 1
    during it, write 2 after it (same services: no restart); `start()` and `end()` inject
    and lift the fault."""
    run = Run(write.name, fault)
    services = make_services(target.settings())
    try:
        await write.prepare(target, services)
        if not write.command:
            await attempt(run, write, target, services, 0)
        start()  # type: ignore[operator]
        try:
            await attempt(run, write, target, services, 1)
        finally:
            end()  # type: ignore[operator]
        run.recovered = await attempt(run, write, target, services, 2)
        run.verdict = await write.check(target, services, run.acked)
    finally:
        await services.close()
    return run


WRITER = [sys.executable, "-m", "tests.faults.writer"]
ROOT = Path(__file__).resolve().parents[2]


def killed_writer(write: Write, target: Target, acks_before_kill: int, seed: int) -> Run:
    """`tests/faults/writer.py` writing in a loop, SIGKILLed after some acknowledgements at a
    random moment of a later write; then checked, and written to again."""
    run = Run(write.name, "killed")
    rng = random.Random(seed)

    async def prepare() -> None:
        services = make_services(target.settings())
        try:
            await write.prepare(target, services)
        finally:
            await services.close()

    asyncio.run(prepare())
    process = subprocess.Popen(
        [*WRITER, write.name],
        env={**target.env(), "FAULT_API_URL": target.api_url, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            kind, _, number = line.strip().partition(" ")
            if kind == "try":
                run.tried += 1
            elif kind == "ack":
                run.acked.append(int(number))
                if len(run.acked) >= acks_before_kill:
                    time.sleep(rng.uniform(0, 0.05))  # somewhere in the next write
                    break
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        for line in process.stdout:  # what it had printed before it died
            kind, _, number = line.strip().partition(" ")
            run.tried += kind == "try"
            if kind == "ack":
                run.acked.append(int(number))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if len(run.acked) < acks_before_kill:
        assert process.stderr is not None
        raise AssertionError(f"the writer stopped early: {process.stderr.read()[-2000:]}")

    async def after() -> None:
        services = make_services(target.settings())
        try:
            run.recovered = await attempt(run, write, target, services, RECOVERY)
            run.verdict = await write.check(target, services, run.acked)
        finally:
            await services.close()

    asyncio.run(after())
    return run


@contextmanager
def api_for(name: str, target: Target) -> Iterator[str]:
    """The API in a thread for the API event's row (its base URL), nothing for the others."""
    if name != "API event":
        yield ""
        return
    from tests.core.api_server import serving

    with serving(target.settings()) as url:
        yield url


@contextmanager
def api_process(target: Target) -> Iterator[subprocess.Popen[str]]:
    """`frontline api` on a free port, as a phone system's API server runs."""
    from tests.pg_cluster import free_port

    port = free_port()
    process = subprocess.Popen(
        [FRONTLINE, "api", "--port", str(port)],
        env=target.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    target.api_url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{target.api_url}/healthz", timeout=2).status_code < 500:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the API did not start: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
        time.sleep(0.1)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def killed_api(target: Target, acks_before_kill: int, seed: int) -> Run:
    """Events posted to `frontline api` four at a time; the API SIGKILLed while some are in
    flight, started again, and the unanswered ones retried with their keys (as a phone
    system does): each applied once, none acknowledged lost."""
    from tests.faults.writes import WRITES

    write = WRITES["API event"]
    run = Run(write.name, "killed")
    rng = random.Random(seed)
    pending: list[int] = []

    async def post_until_killed(api: subprocess.Popen[str]) -> None:
        services = make_services(target.settings())
        try:
            n = 0
            while api.poll() is None:
                batch = list(range(n, n + 4))
                n += 4
                results = await asyncio.gather(
                    *(write.once(target, services, i) for i in batch), return_exceptions=True
                )
                for i, result in zip(batch, results, strict=True):
                    run.tried += 1
                    if isinstance(result, BaseException):
                        pending.append(i)
                    else:
                        run.acked.append(i)
                if len(run.acked) >= acks_before_kill and api.poll() is None:
                    # Within the next batch's first milliseconds: requests in flight.
                    asyncio.get_running_loop().call_later(
                        rng.uniform(0, 0.005), api.send_signal, signal.SIGKILL
                    )
                    await asyncio.sleep(0)
        finally:
            await services.close()

    with api_process(target) as api:
        asyncio.run(post_until_killed(api))
        api.wait(30)
    # Started again (the same app, in a thread: a second process start costs seconds).
    with api_for("API event", target) as target.api_url:

        async def after() -> None:
            services = make_services(target.settings())
            try:
                for i in pending:  # the phone system retries what got no answer
                    run.tried += 1
                    await write.once(target, services, i)
                    run.acked.append(i)
                run.told += [f"no answer (the API was killed): event {i}" for i in pending]
                run.recovered = await attempt(run, write, target, services, RECOVERY)
                run.verdict = await write.check(target, services, run.acked)
                duplicates = await _rows(services)
                if duplicates:
                    run.verdict.half.append(f"events applied twice: {duplicates}")
            finally:
                await services.close()

        asyncio.run(after())
    return run


async def _rows(services: Services) -> list[object]:
    from tests.faults.writes import rows

    return await rows(
        services,
        "SELECT caller_number, count(*) FROM call GROUP BY caller_number HAVING count(*) > 1",
    )


def killed_command(write: Write, target: Target, args: list[str], seed: int) -> Run:
    """A `frontline` command (an import, a rebuild) SIGKILLed part-way; then checked, and
    run again to the end."""
    run = Run(write.name, "killed", tried=1)
    rng = random.Random(seed)

    async def prepare() -> None:
        services = make_services(target.settings())
        try:
            await write.prepare(target, services)
        finally:
            await services.close()

    asyncio.run(prepare())
    process = subprocess.Popen(
        [FRONTLINE, *args],
        env=target.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Its start-up takes about a second; kill it somewhere in its work.
        time.sleep(rng.uniform(1.0, 3.0))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    async def after() -> None:
        services = make_services(target.settings())
        try:
            verdict = await write.check(target, services, [])
            run.recovered = await attempt(run, write, target, services, 0)
            run.verdict = await write.check(target, services, run.acked)
            run.verdict.half[:0] = verdict.half
        finally:
            await services.close()

    asyncio.run(after())
    return run


def import_under_lock(target: Target, hold_seconds: float = 2.0) -> Run:
    """`frontline import` started while another connection holds the lock for a while: it
    waits the lock out (core/importing/busy.py) and commits every row."""
    import threading

    from tests.faults.writes import WRITES

    write = WRITES["import batch"]
    run = Run(write.name, "locked")
    lock = Lock(target.url).__enter__()
    release = threading.Timer(hold_seconds, lock.release)
    release.start()

    async def go() -> None:
        services = make_services(target.settings())
        try:
            run.recovered = await attempt(run, write, target, services, 1)
            run.verdict = await write.check(target, services, run.acked)
        finally:
            await services.close()

    try:
        asyncio.run(go())
    finally:
        release.cancel()
        lock.release()
    return run
