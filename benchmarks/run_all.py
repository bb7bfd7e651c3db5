"""Run every benchmarks/bench_*.py in turn (what `make bench` does) and report failures.

.venv/bin/python -m benchmarks.run_all [--only NAME]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only bench_NAME (repeatable)")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    failed: list[str] = []
    for script in scripts:
        module = f"benchmarks.{script.stem}"
        print(f"== {module}", flush=True)
        started = time.perf_counter()
        status = subprocess.call([sys.executable, "-m", module], cwd=HERE.parent)
        print(f"== {module}: exit {status} after {time.perf_counter() - started:.0f} s\n")
        if status:
            failed.append(module)
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
