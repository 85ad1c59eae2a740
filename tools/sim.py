"""The lifecycle under the deterministic simulation: seeds of worlds, the real handlers, the
invariants checked at every step.

    venv/bin/python -m tools.sim [--seeds 40] [--first 1] [--seed N] [--runs 40] [--load 6]
                                 [--workers N]

Beside the drawn worlds, `--load` seeds of worlds under load (300 runs each: the pass must look
at every open run in time; `simulation.world.LOADS`); `--seed N --load 1` replays load seed N.

Each violation is printed with its seed, its rule and its run's trace; `--seed N` replays one
seed (`make sim SEED=N`). The last line reads
`sim: <S> seeds, <R> runs, <V> violations, <r> runs/s`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

HASH_SEED = "0"
"""Set order is part of a trace: the command fixes Python's string hashing."""


def _count(text: str) -> int:
    """A count of seeds: a whole number, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make sim", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=_count, default=40, help="how many seeds (default 40)")
    parser.add_argument("--first", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--seed", type=int, help="run this one seed, and print its violations")
    parser.add_argument("--runs", type=int, default=40, help="runs a seed requests (default 40)")
    parser.add_argument(
        "--load", type=_count, default=6, help="seeds of worlds under load besides (default 6)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONHASHSEED") != HASH_SEED:
        os.environ["PYTHONHASHSEED"] = HASH_SEED
        os.execv(sys.executable, [sys.executable, "-m", "tools.sim", *sys.argv[1:]])
    from simulation.run import declared_table, run_seed

    if args.seed is not None:
        seeds = [] if args.load else [args.seed]
        loads = [args.seed] if args.load else []
    else:
        seeds = list(range(args.first, args.first + args.seeds))
        loads = list(range(args.first, args.first + args.load))
    worlds = [(seed, False) for seed in seeds] + [(seed, True) for seed in loads]
    declared_table()  # once, before the workers fork
    began = time.perf_counter()
    total_runs, violations, rules = 0, 0, Counter[str]()
    workers = min(args.workers, len(worlds))
    with ProcessPoolExecutor(workers) if workers > 1 else _Inline() as pool:
        # The load worlds first: the longest, they end with the others.
        ordered = sorted(worlds, key=lambda world: not world[1])
        kinds = [load for _, load in ordered]
        for result in pool.map(
            run_seed, [seed for seed, _ in ordered], [args.runs] * len(ordered), kinds
        ):
            total_runs += result.runs
            violations += len(result.violations)
            rules.update(result.rules)
            for text in result.violations:
                print(f"{'load seed' if result.load else 'seed'} {result.seed}: {text}")
    seconds = time.perf_counter() - began
    for rule, count in sorted(rules.items()):
        print(f"  {rule}: {count}")
    rate = total_runs / seconds if seconds else 0.0
    print(
        f"sim: {len(worlds)} seeds, {total_runs} runs, {violations} violations, {rate:.0f} runs/s"
    )
    return 1 if violations else 0


class _Inline:
    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Any, *iterables: Any) -> Any:
        return map(fn, *iterables)


if __name__ == "__main__":
    sys.exit(main())
