"""Parsing a big customers file in worker processes while this process writes.

Checking a million rows (dates, phones, emails) is as much work as writing them, and Python
does it on one core: worker processes parse pieces of the file while the importing process
writes the pieces already parsed. A piece is cut at a line end where an even number of
quote characters precedes it (so, normally, not inside a quoted field); the worker checks
that it really ended between two records (core.importing.customer_columns.parse_chunk) and the
importer parses the rest of the file itself when one did not (a stray quote in an unquoted
field can fool the count).

The workers are plain `python -m core.importing.parallel` processes talking over their
standard input and output: a pickled set-up, then pickled pieces of text one way and
marshalled columns of values the other (marshal is several times quicker than pickle for
columns of strings). They import only the parser, not the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import marshal
import os
import pickle
import struct
import sys
from collections import deque
from datetime import date, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

import core
from core.importing.customer_columns import ColumnParser, ParsedChunk, parse_chunk

_LENGTH = struct.Struct("<Q")


def split_points(text: str, start: int, first_line: int, size: int) -> list[tuple[int, int, int]]:
    """Cut text[start:] into pieces of about `size` characters (the first one smaller), each
    ending at a line end after an even number of quote characters.

    Returns:
        (begin, end, line the piece starts on) for each piece, in order.
    """
    pieces: list[tuple[int, int, int]] = []
    length = len(text)
    begin, line = start, first_line
    while begin < length:
        # The first piece is small: the importer starts writing as soon as it is parsed.
        end = text.find("\n", begin + (size if pieces else max(1, size // 8)))
        if end < 0:
            end = length
        else:
            quotes = text.count('"', begin, end)
            give_up = end + 4 * size  # unbalanced quotes: let the worker's check decide
            while quotes % 2 and end < give_up:
                following = text.find("\n", end + 1)
                if following < 0:
                    end = length
                    break
                quotes += text.count('"', end, following)
                end = following
            end = min(end + 1, length)
        pieces.append((begin, end, line))
        line += text.count("\n", begin, end)
        begin = end
    return pieces


def _read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def _frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


class WorkerFailed(Exception):
    """A parsing worker stopped or could not start; parse in this process instead."""


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.waiting: deque[asyncio.Future[bytes]] = deque()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                head = await stdout.readexactly(_LENGTH.size)
                (size,) = _LENGTH.unpack(head)
                payload = await stdout.readexactly(size)
                future = self.waiting.popleft()
                if not future.done():
                    future.set_result(payload)
        except (asyncio.IncompleteReadError, ConnectionError, IndexError) as error:
            problem = WorkerFailed(f"parsing worker stopped: {error!r}")
            while self.waiting:
                future = self.waiting.popleft()
                if not future.done():
                    future.set_exception(problem)

    def send(self, payload: bytes) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        stdin = self.process.stdin
        if stdin is None or stdin.is_closing() or self.reader.done():
            future.set_exception(WorkerFailed("parsing worker stopped"))
            return future
        self.waiting.append(future)
        stdin.write(_frame(payload))  # buffered by the transport; written as the pipe drains
        return future


class ParsePool:
    """Worker processes that parse pieces of one customers file, in the order given."""

    def __init__(self, workers: list[_Worker], delimiter: str) -> None:
        self._workers = workers
        self._delimiter = delimiter
        self._next = 0

    @classmethod
    async def start(
        cls, count: int, columns: list[str], delimiter: str, tz: tzinfo | None, today: date
    ) -> ParsePool:
        """Start `count` workers for a file with these columns.

        Raises:
            WorkerFailed: a worker could not be started.
        """
        package_root = str(Path(core.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        setup = _frame(pickle.dumps((columns, delimiter, tz, today)))
        workers: list[_Worker] = []
        try:
            for _ in range(count):
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "core.importing.parallel",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    env=env,
                )
                assert process.stdin is not None
                process.stdin.write(setup)
                workers.append(_Worker(process))
        except OSError as error:
            await cls(workers, delimiter).close()
            raise WorkerFailed(f"cannot start a parsing worker: {error}") from error
        return cls(workers, delimiter)

    def submit(self, text: str, first_line: int) -> asyncio.Future[ParsedChunk]:
        """Parse `text` (starting on line `first_line`) in the next worker."""
        worker = self._workers[self._next % len(self._workers)]
        self._next += 1
        sent = worker.send(pickle.dumps((text, first_line), protocol=pickle.HIGHEST_PROTOCOL))
        result: asyncio.Future[ParsedChunk] = asyncio.get_running_loop().create_future()

        def done(future: asyncio.Future[bytes]) -> None:
            if result.done():
                return
            if future.cancelled():
                result.cancel()
            elif (error := future.exception()) is not None:
                result.set_exception(error)
            else:
                chunk = _chunk(marshal.loads(future.result()), self._delimiter)
                chunk.text, chunk.first_line = text, first_line
                result.set_result(chunk)

        sent.add_done_callback(done)
        return result

    async def close(self) -> None:
        """Stop the workers: end of input, then a kill if one does not exit promptly."""
        for worker in self._workers:
            stdin = worker.process.stdin
            if stdin is not None and not stdin.is_closing():
                stdin.close()
        for worker in self._workers:
            try:
                await asyncio.wait_for(worker.process.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()
                await worker.process.wait()
            worker.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker.reader


def _chunk(values: Any, delimiter: str) -> ParsedChunk:
    lines, columns, points, rejects, last_line, repeated, clean = values
    return ParsedChunk(
        lines=lines,
        columns=columns,
        points=points,
        rejects=[(line, list(fields), reason) for line, fields, reason in rejects],
        last_line=last_line,
        repeated=repeated,
        clean=clean,
        delimiter=delimiter,
    )


def _serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    setup = _read_frame(stdin)
    if setup is None:
        return
    columns, delimiter, tz, today = pickle.loads(setup)
    parser = ColumnParser(columns, tz, today)
    while (frame := _read_frame(stdin)) is not None:
        text, first_line = pickle.loads(frame)
        try:
            chunk = parse_chunk(text, first_line, delimiter, parser)
        except Exception:  # noqa: BLE001 - e.g. csv.Error: the importer parses this piece
            # itself and reports the problem as it would without workers
            chunk = ParsedChunk([], [()] * 10, [[]] * 6, [], first_line, clean=False)
        values: Any = (
            chunk.lines, chunk.columns, chunk.points, chunk.rejects, chunk.last_line,
            chunk.repeated, chunk.clean,
        )  # fmt: skip
        stdout.write(_frame(marshal.dumps(values)))
        stdout.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
