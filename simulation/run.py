"""Run seeds of the simulation and say what they found.

Each seed is one world (`simulation.world`); the same seed gives the same trace, byte for byte
(`PYTHONHASHSEED` is fixed by the command, so even set order is the same).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from simulation.world import World, draw, draw_load

ROOT = Path(__file__).resolve().parent.parent
TRACE_LINES = 40


@dataclass
class SeedResult:
    seed: int
    runs: int
    load: bool = False
    violations: list[str] = field(default_factory=list)
    """Each: the violation's line, then the trace of its run."""
    rules: list[str] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0


@cache
def declared_table() -> dict[str, Any]:
    """The runs table exactly as the program declares it (the dev stack, offline)."""
    from offline.program import run_program

    program = run_program(str(ROOT / "Pulumi.dev.yaml"))
    return dict(program.one("aws:dynamodb/table:Table", "runs-table").inputs)


def run_seed(seed: int, runs_per_seed: int, load: bool = False) -> SeedResult:
    """One seed's world: drawn as `draw` does, or, with `load`, a world under load
    (`simulation.world.LOADS`, whose runs are its own)."""
    began = time.perf_counter()
    settings = draw_load(seed) if load else draw(seed, runs_per_seed)
    world = World(seed, settings, declared_table())
    invariants = world.play()
    result = SeedResult(seed, len(invariants.accepted), load, steps=world.sim.steps)
    for violation in invariants.violations:
        if violation.run_id:
            story = world.sim.stories.get(violation.run_id[:8], [])[-TRACE_LINES:]
        else:
            story = list(world.sim.trace)[-TRACE_LINES:]
        result.violations.append("\n".join([violation.line(), *("    " + s for s in story)]))
        result.rules.append(violation.rule)
    result.seconds = time.perf_counter() - began
    return result
