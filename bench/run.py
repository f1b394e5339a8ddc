"""Borough's benchmark runner.

    python bench/run.py NAME [--size N] [the benchmark's own options]

runs ``bench/NAME.py``'s ``run(size, progress)``, shows progress on stderr and prints the
figures as one JSON object on the last line of stdout. A benchmark is any module in this folder
exposing ``run(size: int | None, progress: Callable[[str], None]) -> dict``; ``size=None``
means the benchmark's own default. A benchmark with options of its own (``linkage
--no-gazetteer``) also has ``add_options(parser)``, and its ``run`` takes them as the keyword
``options`` (an ``argparse.Namespace``); they are printed with the figures.
``python bench/run.py --list`` lists them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def available() -> list[str]:
    return sorted(
        p.stem for p in HERE.glob("*.py") if p.stem not in ("run",) and not p.stem.startswith("_")
    )


def progress_printer(name: str):
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(
            f"[{name} {time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True
        )

    return progress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="benchmark to run: " + ", ".join(available()))
    parser.add_argument("--size", type=int, default=None, help="problem size (benchmark's unit)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks")
    args, rest = parser.parse_known_args(argv)
    if args.list or not args.name:
        print("\n".join(available()))
        return 0 if args.list else 2
    if args.name not in available():
        parser.error(f"no benchmark {args.name!r}; have: {', '.join(available())}")

    sys.path[:0] = [str(ROOT), str(HERE)]  # the project and its benchmarks, from any cwd
    module = importlib.import_module(args.name)
    extra: dict = {}
    if hasattr(module, "add_options"):
        own = argparse.ArgumentParser(prog=f"bench/run.py {args.name}")
        module.add_options(own)
        options = own.parse_args(rest)
        extra = {"options": options}
    elif rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    figures = module.run(args.size, progress_printer(args.name), **extra)
    result = {
        "benchmark": args.name,
        "size": args.size,
        **({"options": vars(extra["options"])} if extra else {}),
        "started_utc": started,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        **figures,
    }
    print(json.dumps(result, sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
