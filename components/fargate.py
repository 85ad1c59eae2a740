"""Fargate facts the config model and the plan share: valid task sizes and public prices."""

from __future__ import annotations

from dataclasses import dataclass

# CPU units -> valid memory (MiB), from the ECS task definition parameters page.
TASK_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

EPHEMERAL_STORAGE_FREE_GIB = 20
EPHEMERAL_STORAGE_MIN_GIB = 21
EPHEMERAL_STORAGE_MAX_GIB = 200


def cpu_problem(cpu: int) -> str | None:
    """Why `cpu` (in CPU units, 1024 per vCPU) is not a Fargate task size, or None."""
    if cpu not in TASK_SIZES:
        return f"{cpu} is not a Fargate CPU size; allowed: {', '.join(map(str, TASK_SIZES))}"
    return None


def memory_problem(cpu: int, memory: int) -> str | None:
    """Why `memory` (MiB) does not go with a valid `cpu` on Fargate, or None."""
    allowed = TASK_SIZES[cpu]
    if memory not in allowed:
        return f"{memory} MiB is not valid with cpu {cpu}; allowed: {_describe(allowed)} MiB"
    return None


def _describe(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


@dataclass(frozen=True)
class Prices:
    """Fargate Linux prices per hour in one region, for one architecture."""

    vcpu_hour: float
    gb_hour: float


# Public AWS Fargate prices, Linux, us-east-1, checked 2026-11. Spot is variable ("up to 70% off"):
# the plan shows the on-demand price and the best case at 70% off, and says so.
PRICES_REGION = "us-east-1"
PRICES_CHECKED = "2026-11"
PRICES: dict[str, Prices] = {
    "x86_64": Prices(vcpu_hour=0.04048, gb_hour=0.004445),
    "arm64": Prices(vcpu_hour=0.03238, gb_hour=0.00356),
}
EPHEMERAL_GB_HOUR = 0.000111
SPOT_MAX_DISCOUNT = 0.70


def hourly_cost(
    cpu: int, memory: int, architecture: str, ephemeral_storage_gib: int | None = None
) -> float:
    """On-demand cost of one task running for an hour, in USD."""
    prices = PRICES[architecture]
    cost = cpu / 1024 * prices.vcpu_hour + memory / 1024 * prices.gb_hour
    if ephemeral_storage_gib:
        cost += (ephemeral_storage_gib - EPHEMERAL_STORAGE_FREE_GIB) * EPHEMERAL_GB_HOUR
    return cost


def spot_hourly_cost_floor(on_demand: float) -> float:
    """The lowest Spot price AWS advertises for a task costing `on_demand` per hour."""
    return on_demand * (1 - SPOT_MAX_DISCOUNT)
