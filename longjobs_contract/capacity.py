"""Where a job runs: the capacities a config or a run may name, and their ECS providers."""

from __future__ import annotations

ON_DEMAND = "on-demand"
SPOT = "spot"
CAPACITIES = (SPOT, ON_DEMAND)
PROVIDERS = {SPOT: "FARGATE_SPOT", ON_DEMAND: "FARGATE"}
"""Capacity → the ECS capacity provider that gives it."""
CAPACITY_OF_PROVIDER = {provider: capacity for capacity, provider in PROVIDERS.items()}
