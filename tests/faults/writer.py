"""`python -m tests.faults.writer WRITE`: make write after write through the real services,
printing `try N` before each and `ack N` once it is acknowledged, until killed.

The suite SIGKILLs it at a random moment (tests/faults/faults.py `killed_writer`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from core.config import load_settings
from core.services import make_services
from tests.faults.writes import WRITES, Target


async def main(name: str) -> None:
    settings = load_settings()
    target = Target(
        settings.resolved_database_url, Path(settings.data_dir), os.environ.get("FAULT_API_URL", "")
    )
    write = WRITES[name]
    services = make_services(settings)
    n = 0
    while True:
        sys.stdout.write(f"try {n}\n")
        sys.stdout.flush()
        await write.once(target, services, n)
        sys.stdout.write(f"ack {n}\n")
        sys.stdout.flush()
        n += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
