"""The rejects file: rejected rows with the file's own columns plus `line` and `reason`."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, TextIO

from core.importing.base import Reject
from core.importing.source import CsvSource


class RejectsFile:
    """Rejected rows with the file's own columns plus `line` and `reason`, opened on first use."""

    def __init__(self, source: CsvSource, path: Path | None) -> None:
        self.source = source
        self.path = path
        self._file: TextIO | None = None
        self._writer: Any = None
        self.shown: list[Reject] = []
        self.count = 0

    def add(self, reject: Reject) -> None:
        self.count += 1
        if len(self.shown) < 100:
            self.shown.append(reject)
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            encoding = "utf-8-sig" if self.source.has_bom else "utf-8"
            # customers' data: readable by the one who imported it only
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(descriptor, 0o600)  # a rejects file left by an earlier import too
            handle = open(descriptor, "w", encoding=encoding, newline="")
            self._file = handle
            self._writer = csv.writer(handle, delimiter=self.source.delimiter)
            self._writer.writerow([*self.source.header, "line", "reason"])
        self._writer.writerow([*reject.fields, reject.line, reject.reason])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    @property
    def written(self) -> Path | None:
        return self.path if self._file is not None else None
