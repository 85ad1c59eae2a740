"""Where a job runs: the capacities a config or a run may name, and their ECS providers."""

from __future__ import annotations

from typing import Final

ON_DEMAND: Final = "on-demand"
SPOT: Final = "spot"
CAPACITIES = (SPOT, ON_DEMAND)
PROVIDERS = {SPOT: "FARGATE_SPOT", ON_DEMAND: "FARGATE"}
"""Capacity → the ECS capacity provider that gives it."""
CAPACITY_OF_PROVIDER = {provider: capacity for capacity, provider in PROVIDERS.items()}
