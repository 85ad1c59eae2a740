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


@dataclass(frozen=True)
class Prices:
    """Fargate Linux on-demand prices per hour for one CPU architecture, in USD."""

    vcpu_hour: float
    gb_hour: float


@dataclass(frozen=True)
class RegionPrices:
    """One region's Fargate Linux on-demand prices, in USD, and where they were read."""

    region: str
    arm64: Prices
    x86_64: Prices
    ephemeral_gb_hour: float
    """Per GB-hour of ephemeral storage above the free 20 GiB."""
    source: str
    checked: str
    """When the source was read (year-month)."""

    def for_architecture(self, architecture: str) -> Prices:
        """The vCPU and memory prices for `arm64` or `x86_64`."""
        return {"arm64": self.arm64, "x86_64": self.x86_64}[architecture]


# Only figures read from a source are here: a region whose five prices could not all be sourced
# is left out and priced at us-east-1's (FALLBACK_REGION), and the plan says so. The price list
# usage types are <prefix>-Fargate-vCPU-Hours:perCPU, -GB-Hours, -ARM-vCPU-Hours:perCPU,
# -ARM-GB-Hours and -EphemeralStorage-GB-Hours of the AmazonECS offer.
FALLBACK_REGION = "us-east-1"
REGION_PRICES: dict[str, RegionPrices] = {
    prices.region: prices
    for prices in (
        RegionPrices(
            region="us-east-1",
            arm64=Prices(vcpu_hour=0.03238, gb_hour=0.00356),
            x86_64=Prices(vcpu_hour=0.04048, gb_hour=0.004445),
            ephemeral_gb_hour=0.000111,
            # Also quoted, all five, by vantage.sh/blog/fargate-pricing and REFERENCE.md.
            source="AWS Fargate pricing page; AmazonECS price list (USE1-*)",
            checked="2026-11",
        ),
        RegionPrices(
            region="us-east-2",
            arm64=Prices(vcpu_hour=0.03238, gb_hour=0.00356),
            x86_64=Prices(vcpu_hour=0.04048, gb_hour=0.004445),
            ephemeral_gb_hour=0.000111,
            # Price list API answers (get-products, USE2-*) copied into public calculator
            # notes, 2026-05; x86 also in theuves/fgcalc's region table.
            source="AmazonECS price list (USE2-*)",
            checked="2026-05",
        ),
        RegionPrices(
            region="eu-west-2",
            arm64=Prices(vcpu_hour=0.03725, gb_hour=0.00409),
            x86_64=Prices(vcpu_hour=0.04656, gb_hour=0.00511),
            ephemeral_gb_hour=0.000129,
            # The London price list file (EUW2-*) as quoted in a public cost profile,
            # 2026-09; x86 also in theuves/fgcalc's region table.
            source="AmazonECS price list (EUW2-*)",
            checked="2026-09",
        ),
        RegionPrices(
            region="ap-northeast-1",
            arm64=Prices(vcpu_hour=0.04045, gb_hour=0.00442),
            x86_64=Prices(vcpu_hour=0.05056, gb_hour=0.00553),
            ephemeral_gb_hour=0.000133,
            # The bulk price list (APN1-*, publicationDate 2026-07-07) as copied into a public
            # SQL migration; the same x86, arm64 memory and ephemeral figures in a public Go
            # test's price-list documents; x86 also in theuves/fgcalc's region table.
            source="AmazonECS price list (APN1-*)",
            checked="2026-07",
        ),
    )
}
# Fargate Spot is variable ("up to 70% off"): the plan shows that best case and says so.
SPOT_MAX_DISCOUNT = 0.70


def region_prices(region: str) -> RegionPrices:
    """The table's prices for `region`, or FALLBACK_REGION's when the table does not hold it."""
    return REGION_PRICES.get(region, REGION_PRICES[FALLBACK_REGION])


def hourly_cost(
    cpu: int,
    memory: int,
    architecture: str,
    ephemeral_storage_gib: int | None = None,
    prices: RegionPrices | None = None,
) -> float:
    """On-demand cost of one task running for an hour, in USD (us-east-1 prices by default)."""
    prices = prices or REGION_PRICES[FALLBACK_REGION]
    rates = prices.for_architecture(architecture)
    cost = cpu / 1024 * rates.vcpu_hour + memory / 1024 * rates.gb_hour
    if ephemeral_storage_gib:
        cost += (ephemeral_storage_gib - EPHEMERAL_STORAGE_FREE_GIB) * prices.ephemeral_gb_hour
    return cost


def spot_hourly_cost_floor(on_demand: float) -> float:
    """The lowest Spot price AWS advertises for a task costing `on_demand` per hour."""
    return on_demand * (1 - SPOT_MAX_DISCOUNT)
