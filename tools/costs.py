"""The plan's costs: what a user budgets for a stack, in USD, from public list prices.

Fargate's prices are the region table in `components.fargate`. The other prices below are used
by the plan only; each names its source. Figures that depend on usage nobody declares (how long
tasks run, how many metrics Container Insights publishes) are given as a price basis, not a total.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import fargate
from components.config import JobConfig, StackConfig
from components.config.models import KMS_CREATE, VpcConfig
from components.network import endpoint_services
from offline.program import VPC, ProgramRun, Resource

HOURS_PER_MONTH = 730
# Amazon VPC pricing: every public IPv4 address, in use or idle (REFERENCE.md; the eu-west-2 price
# list, EUW2-PublicIPv4:InUseAddress, holds the same figure).
PUBLIC_IPV4_HOUR = 0.005
# Container Insights (value "enabled") is billed as CloudWatch custom metrics (AWS observability
# best-practices guide) at $0.30 per metric-month for the first 10,000 metrics (CloudWatch pricing
# page, us-east-1), and its performance log events as CloudWatch Logs ingestion, $0.50 per GB
# (standard class, us-east-1). The metrics exist only for resources with running tasks (ECS
# developer guide, Container Insights). For "enhanced" no source read here gives the ECS price or
# its basis (the pricing page's "observations" wording predates ECS's enhanced mode), so the plan
# points to the pricing page rather than guess.
CLOUDWATCH_METRIC_MONTH = 0.30
CLOUDWATCH_LOGS_INGESTION_GB = 0.50
CLOUDWATCH_PRICING_PAGE = "https://aws.amazon.com/cloudwatch/pricing/"
ARCHITECTURES = ("arm64", "x86_64")


@dataclass(frozen=True)
class NetworkPrices:
    """One region's NAT gateway and interface endpoint prices, in USD, and where they were read."""

    region: str
    nat_gateway_hour: float
    nat_gateway_gb: float
    """Per GB the gateway processes, either way."""
    endpoint_hour: float
    """Per interface endpoint, per Availability Zone it is in."""
    endpoint_gb: float
    """Per GB through the region's interface endpoints, the first PB of a month."""
    source: str
    checked: str


# Only figures read from a source are here; other regions are priced at us-east-1's, and the plan
# says so. Usage types: <prefix>-NatGateway-Hours and -Bytes (AmazonEC2 offer),
# <prefix>-VpcEndpoint-Hours and -Bytes (AmazonVPC offer). S3 gateway endpoints cost nothing
# (Amazon VPC pricing page).
NETWORK_PRICES: dict[str, NetworkPrices] = {
    prices.region: prices
    for prices in (
        NetworkPrices(
            region="us-east-1",
            nat_gateway_hour=0.045,
            nat_gateway_gb=0.045,
            endpoint_hour=0.01,
            endpoint_gb=0.01,
            # NatGateway-Hours SKU M2YSHUBETB3JX4M4 as a public price-list test copies it; the
            # VPC pricing page's example, $0.045 an hour and per GB; USE1-VpcEndpoint-Hours and
            # -Bytes as public price-list extracts give them; the PrivateLink pricing page's
            # $0.01 per GB for the first PB.
            source="AmazonEC2 and AmazonVPC price lists (USE1); VPC and PrivateLink pricing pages",
            checked="2026-10",
        ),
        NetworkPrices(
            region="eu-west-2",
            nat_gateway_hour=0.05,
            nat_gateway_gb=0.05,
            endpoint_hour=0.011,
            endpoint_gb=0.01,
            # EUW2-NatGateway-Hours and -Bytes from the AmazonEC2 price list published
            # 2026-09-04; EUW2-VpcEndpoint-Hours and -Bytes as a public cost profile quotes them.
            source="AmazonEC2 and AmazonVPC price lists (EUW2)",
            checked="2026-09",
        ),
        NetworkPrices(
            region="ap-northeast-1",
            nat_gateway_hour=0.062,
            nat_gateway_gb=0.062,
            endpoint_hour=0.014,
            endpoint_gb=0.01,
            # APN1-NatGateway-Hours and -Bytes, APN1-VpcEndpoint-Hours, read from the Price List
            # API on 2026-09-25 as a public cost estimate records them.
            source="AmazonEC2 and AmazonVPC price lists (APN1)",
            checked="2026-09",
        ),
    )
}
# The zones a stack without network.create is priced for: network.create's default.
DEFAULT_AVAILABILITY_ZONES = VpcConfig.model_fields["availability_zones"].default
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"

CONTAINER_INSIGHTS_BASIS = {
    "enabled": [
        f"billed as CloudWatch custom metrics: {CLOUDWATCH_METRIC_MONTH:.2f} per metric per month "
        "(first 10,000 of the account, us-east-1)",
        "for the clusters, services and task families while they have running tasks,",
        "plus CloudWatch Logs ingestion of its performance events: "
        f"{CLOUDWATCH_LOGS_INGESTION_GB:.2f} per GB (us-east-1)",
        "no total: it depends on what runs and for how long",
    ],
    "enhanced": [
        "this plan holds neither its price nor its basis (per metric or per observation):",
        f"see {CLOUDWATCH_PRICING_PAGE}",
    ],
    "disabled": ["no Container Insights charge"],
}
# A cluster without the setting follows the account's (ECS API reference, ClusterSetting).
CONTAINER_INSIGHTS_UNSET = [
    "the account's containerInsights setting decides (ECS PutAccountSetting), which this plan "
    "cannot see",
]


def print_costs(run: ProgramRun, config: StackConfig) -> None:
    """Every cost section, priced for the stack's own region where the table holds it."""
    prices = fargate.region_prices(run.region)
    public_ip = _started_tasks_get_public_ip(run)
    print_price_basis(run.region, prices)
    print_task_hour_costs(config, prices, public_ip)
    print_service_month_costs(run, config, prices)
    print_run_costs(config, prices, public_ip)
    print_network_costs(run, config)
    print_container_insights(run)
    print_key_costs(config)
    print_alarm_costs(run)
    print_access_log_costs(run)


# AWS KMS pricing page (us-east-1, checked 2026-11): a customer managed key is 1 USD a month,
# and each of its first two rotations adds 1 USD a month (later rotations are free); requests
# are 0.03 USD per 10,000.
KMS_KEY_MONTH = 1.00
KMS_REQUESTS_PER_10K = 0.03


# CloudWatch pricing page (us-east-1, checked 2026-11): a standard-resolution alarm is 0.10 USD
# a month for each metric it reads (a metric math alarm, each metric of its expression); a
# custom metric (what a metric filter publishes) 0.30 USD a month for the account's first 10,000.
ALARM_MONTH = 0.10
CUSTOM_METRIC_MONTH = 0.30


def print_alarm_costs(run: ProgramRun) -> None:
    alarms = run.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    # Filters that publish the same metric (one per function's log group) make one metric.
    metrics = {
        (transform["namespace"], transform["name"])
        for metric_filter in run.by_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
        for transform in (metric_filter.inputs["metricTransformation"],)
    }
    read = sum(
        sum(1 for query in alarm.inputs.get("metricQueries") or [] if query.get("metric")) or 1
        for alarm in alarms
    )
    total = read * ALARM_MONTH + len(metrics) * CUSTOM_METRIC_MONTH
    print(
        f"\n  Alarms: {len(alarms)} reading {read} metrics at {ALARM_MONTH:.2f} a month each, "
        f"{len(metrics)} "
        f"metric{'' if len(metrics) == 1 else 's'} from log lines at {CUSTOM_METRIC_MONTH:.2f} "
        f"a month each: {total:.2f} a month"
    )


def print_key_costs(config: StackConfig) -> None:
    """What the stack's key costs: only a key the stack creates is billed to this stack."""
    if config.kms is None:
        return
    if config.kms == KMS_CREATE:
        print(
            f"\n  KMS key (created, rotated yearly): {KMS_KEY_MONTH:.2f} a month, "
            f"{KMS_KEY_MONTH * 2:.2f} after its first rotation and {KMS_KEY_MONTH * 3:.2f} "
            f"from its second on; requests {KMS_REQUESTS_PER_10K:.2f} per 10,000 beyond the "
            "account's 20,000 free a month (S3 Bucket Keys and SQS data-key reuse keep them few)"
        )
    else:
        print(
            f"\n  KMS key {config.kms}: billed where it is kept; the stack's requests "
            f"{KMS_REQUESTS_PER_10K:.2f} per 10,000"
        )


def print_price_basis(region: str, prices: fargate.RegionPrices) -> None:
    """Which region's Fargate prices the plan uses, from where, and what the table holds."""
    print("\nCosts, USD: AWS public list prices, Linux, before tax")
    if region == prices.region:
        whose = f"{region}, the stack's region"
    else:
        whose = f"{prices.region}'s: the table holds none for {region}, whose own may differ"
    print(f"  Fargate prices: {whose} ({prices.source}, checked {prices.checked})")
    print(
        f"  the price table holds {', '.join(fargate.REGION_PRICES)}; "
        f"other regions are priced at {fargate.FALLBACK_REGION}'s"
    )
    for architecture in ARCHITECTURES:
        rates = prices.for_architecture(architecture)
        print(f"  {architecture:<7} {rates.vcpu_hour} per vCPU-hour, {rates.gb_hour} per GB-hour")
    print(
        f"  ephemeral storage above {fargate.EPHEMERAL_STORAGE_FREE_GIB} GiB: "
        f"{prices.ephemeral_gb_hour} per GB-hour"
    )
    print(
        "  billed per second, one-minute minimum; Spot varies: shown at its advertised best "
        f"case, {fargate.SPOT_MAX_DISCOUNT:.0%} off on-demand"
    )


def print_task_hour_costs(
    config: StackConfig, prices: fargate.RegionPrices, public_ip: bool
) -> None:
    """Each job's Fargate cost per task-hour, both architectures, on-demand and Spot floor."""
    print("\n  Fargate per task-hour")
    print(
        f"  {'job':<20} {'vCPU':>5} {'GiB':>6}  {'runs on':<16} "
        f"{'arm64':>9} {'arm64 Spot':>11} {'x86_64':>9} {'x86 Spot':>9}"
    )
    for name, job in config.jobs.items():
        costs = {arch: _hourly(job, arch, prices) for arch in ARCHITECTURES}
        spot = {arch: fargate.spot_hourly_cost_floor(cost) for arch, cost in costs.items()}
        print(
            f"  {name:<20} {job.cpu / 1024:>5g} {job.memory / 1024:>6g}  "
            f"{job.architecture + ' ' + job.capacity:<16} "
            f"{costs['arm64']:>9.5f} {spot['arm64']:>11.5f} "
            f"{costs['x86_64']:>9.5f} {spot['x86_64']:>9.5f}"
        )
    if public_ip:
        print(
            f"  public IPv4: tasks get a public IP (network assignPublicIp true), "
            f"{PUBLIC_IPV4_HOUR:.5f} per task-hour more"
        )
    else:
        print("  public IPv4: none (network assignPublicIp false)")


def print_service_month_costs(
    run: ProgramRun, config: StackConfig, prices: fargate.RegionPrices
) -> None:
    """What services that keep tasks running cost a month, on the capacity they run on."""
    print(f"\n  Services kept running (desiredCount above 0), per month of {HOURS_PER_MONTH} hours")
    rows = [
        _service_month_row(name, service, config.jobs[name], prices)
        for name, service in _services_by_job(run).items()
        if _desired_count(service) > 0
    ]
    if not rows:
        print("  none: every service has desiredCount 0, so tasks run only when started")
        return
    print(
        f"  {'job':<20} {'tasks':>5}  {'capacity':<10} {'Fargate':>9} {'public IPv4':>11} "
        f"{'total':>9}"
    )
    for row in rows:
        print(row)


def _service_month_row(
    name: str, service: Resource, job: JobConfig, prices: fargate.RegionPrices
) -> str:
    tasks = _desired_count(service)
    on_demand = _hourly(job, job.architecture, prices)
    spot = _runs_on_spot(service)
    hourly = fargate.spot_hourly_cost_floor(on_demand) if spot else on_demand
    ipv4 = PUBLIC_IPV4_HOUR if _service_gets_public_ip(service) else 0.0
    fargate_month = tasks * hourly * HOURS_PER_MONTH
    ipv4_month = tasks * ipv4 * HOURS_PER_MONTH
    capacity = "spot" if spot else "on-demand"
    note = (
        f"  (Spot: advertised best case, {fargate.SPOT_MAX_DISCOUNT:.0%} off; on-demand "
        f"{tasks * on_demand * HOURS_PER_MONTH:.2f})"
        if spot
        else ""
    )
    return (
        f"  {name:<20} {tasks:>5}  {capacity:<10} {fargate_month:>9.2f} {ipv4_month:>11.2f} "
        f"{fargate_month + ipv4_month:>9.2f}{note}"
    )


def print_run_costs(config: StackConfig, prices: fargate.RegionPrices, public_ip: bool) -> None:
    """What one run costs if it lasts until the job's timeout, on-demand and at the Spot floor."""
    ipv4 = PUBLIC_IPV4_HOUR if public_ip else 0.0
    included = "public IPv4 included" if public_ip else "no public IPv4"
    print(f"\n  One run lasting the job's timeout, on the job's architecture ({included})")
    print(f"  {'job':<20} {'timeout':>8}  {'on-demand':>10} {'Spot floor':>10}")
    for name, job in config.jobs.items():
        if job.timeout is None:
            print(f"  {name:<20} {'none':>8}  no bound: its per-task-hour price while it runs")
            continue
        hours = job.timeout / 3600
        on_demand = _hourly(job, job.architecture, prices)
        spot = fargate.spot_hourly_cost_floor(on_demand)
        print(
            f"  {name:<20} {_duration(job.timeout):>8}  {(on_demand + ipv4) * hours:>10.5f} "
            f"{(spot + ipv4) * hours:>10.5f}"
        )


def network_prices(region: str) -> NetworkPrices:
    """The table's network prices for `region`, or FALLBACK_REGION's."""
    return NETWORK_PRICES.get(region, NETWORK_PRICES[fargate.FALLBACK_REGION])


def print_network_costs(run: ProgramRun, config: StackConfig) -> None:
    """How tasks reach ECR and the internet, and a month of each `network.create` egress choice:
    NAT gateway hours (with each gateway's public IPv4) or interface endpoint hours per zone,
    with the per-GB processing rates beside them (no volume is guessed)."""
    create = config.network.create
    print("\n  Network: how tasks reach ECR, CloudWatch Logs, their secrets and the internet")
    print(f"    {egress(run, config)}")
    for vpc in run.by_type(VPC):
        # awsx's component: what it was asked for (what it makes is opaque under mocks).
        inputs = vpc.inputs
        subnets = ", ".join(spec["type"] for spec in inputs["subnetSpecs"])
        print(
            f"    new VPC (awsx ec2.Vpc {vpc.name}): {inputs['cidrBlock']} over "
            f"{int(inputs['numberOfAvailabilityZones'])} zones, {subnets} subnets in each, "
            f"NAT strategy {inputs['natGateways']['strategy']}"
        )
    prices = network_prices(run.region)
    if run.region == prices.region:
        whose = f"{run.region}, the stack's region"
    else:
        whose = f"{prices.region}'s: the table holds none for {run.region}, whose own may differ"
    zones = create.zones if create else DEFAULT_AVAILABILITY_ZONES
    chosen = create.nat_gateways if create else None
    endpoints = endpoint_services(config.secret_services)
    print(f"\n  network.create's choices, per month of {HOURS_PER_MONTH} hours in {zones} zones")
    print(f"  prices: {whose} ({prices.source}, checked {prices.checked})")
    print(
        f"  the price table holds {', '.join(NETWORK_PRICES)}; other regions are priced at "
        f"{fargate.FALLBACK_REGION}'s"
    )
    print(f"  {'natGateways':<12} {'billed by the hour':<50} {'month':>7}  per GB processed")
    nat_hour = prices.nat_gateway_hour + PUBLIC_IPV4_HOUR
    for choice, count in (("single", 1), ("onePerAz", zones)):
        gateways = f"{count} NAT gateway{'s' if count > 1 else ''} + public IPv4"
        billed = f"{gateways}, {count} x ({prices.nat_gateway_hour} + {PUBLIC_IPV4_HOUR})"
        print(
            f"  {_marked(choice, chosen):<12} {billed:<50} "
            f"{count * nat_hour * HOURS_PER_MONTH:>7.2f}  {prices.nat_gateway_gb} through NAT; "
            "S3 gateway free"
        )
    billed = f"{len(endpoints)} interface endpoints x {zones} zones x {prices.endpoint_hour}"
    endpoint_month = len(endpoints) * zones * prices.endpoint_hour * HOURS_PER_MONTH
    print(
        f"  {_marked('none', chosen):<12} {billed:<50} {endpoint_month:>7.2f}  "
        f"{prices.endpoint_gb} through endpoints (first PB); S3 gateway free"
    )
    print(f"    none's interface endpoints here: {', '.join(endpoints)}")
    print(
        f"    * this stack's choice, {chosen}"
        if chosen
        else "    this stack has no network.create: no NAT gateway or endpoint of its own"
    )


def _marked(choice: str, chosen: str | None) -> str:
    return f"{choice} *" if choice == chosen else choice


def egress(run: ProgramRun, config: StackConfig) -> str:
    """How tasks reach ECR and the rest, in words, from the config and the endpoints declared."""
    network = config.network
    create = network.create
    if create is None:
        where = (
            "the default VPC's default subnets"
            if network.subnet_ids is None
            else "the subnets of network.subnetIds"
        )
        if network.public_ip:
            return f"{where}, a public IP per task: through the VPC's internet gateway"
        return (
            f"{where}, no public IP: only through a NAT gateway or VPC endpoints of those "
            "subnets, which this stack does not make"
        )
    if create.nat_gateways == "none":
        services = sorted(
            str(e.inputs["serviceName"]).rsplit(".", 1)[-1]
            if e.inputs.get("vpcEndpointType") == "Gateway"
            else ".".join(str(e.inputs["serviceName"]).split(".")[3:])
            for e in run.by_type(VPC_ENDPOINT)
        )
        return (
            "natGateways none: a new VPC's isolated subnets, no public IP, no NAT gateway; "
            f"only through VPC endpoints ({', '.join(services)}): ECR by ecr.api and ecr.dkr, "
            "its image layers by the S3 gateway; no other destination"
        )
    gateways = (
        "one NAT gateway"
        if create.nat_gateways == "single"
        else f"a NAT gateway in each of the {create.zones} zones"
    )
    return (
        f"natGateways {create.nat_gateways}: a new VPC's private subnets, no public IP; "
        f"through {gateways}, and to S3 (image layers, checkpoints) through its gateway endpoint"
    )


def print_container_insights(run: ProgramRun) -> None:
    """Each cluster's Container Insights mode (`longjobs:containerInsights`) and its price basis:
    per metric for `enabled`, none for `disabled`; the plan holds none for `enhanced`."""
    for cluster in run.by_type("aws:ecs/cluster:Cluster"):
        name = cluster.inputs.get("name", cluster.name)
        setting = _container_insights(cluster)
        print(f"\n  Container Insights on cluster {name}: {setting or 'not set on the cluster'}")
        basis = CONTAINER_INSIGHTS_BASIS[setting] if setting else CONTAINER_INSIGHTS_UNSET
        for line in basis:
            print(f"    {line}")


def _hourly(job: JobConfig, architecture: str, prices: fargate.RegionPrices) -> float:
    return fargate.hourly_cost(
        job.cpu, job.memory, architecture, job.ephemeral_storage_gib, prices=prices
    )


def _services_by_job(run: ProgramRun) -> dict[str, Resource]:
    """Each job's service resource, found through the `jobs` stack output's serviceName."""
    services = {s.inputs.get("name"): s for s in run.by_type("aws:ecs/service:Service")}
    return {
        name: services[job["serviceName"]]
        for name, job in run.outputs["jobs"].items()
        if job["serviceName"] in services
    }


def _desired_count(service: Resource) -> int:
    return int(service.inputs.get("desiredCount") or 0)


def _runs_on_spot(service: Resource) -> bool:
    providers = {s["capacityProvider"] for s in service.inputs["capacityProviderStrategies"]}
    return providers == {"FARGATE_SPOT"}


def _service_gets_public_ip(service: Resource) -> bool:
    return bool((service.inputs.get("networkConfiguration") or {}).get("assignPublicIp"))


def _started_tasks_get_public_ip(run: ProgramRun) -> bool:
    """Whether tasks the trigger starts get a public IP: the `network` output they are given."""
    return bool(run.outputs["network"]["assignPublicIp"])


def _container_insights(cluster: Resource) -> str | None:
    for setting in cluster.inputs.get("settings") or []:
        if setting.get("name") == "containerInsights":
            return str(setting.get("value"))
    return None


def _duration(seconds: int) -> str:
    """2h, 1h30m, 1d, 45m, 90s: the way the config spells a timeout."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


# Amazon S3 pricing page, S3 Standard, us-east-1, the first 50 TB a month (public pricing guides
# quote 0.021 to 0.026 across regions and volumes). S3 bills nothing to turn server access logging
# on, and no transfer to deliver the logs, only their storage (Amazon S3 User Guide, "Enabling
# Amazon S3 server access logging").
S3_STANDARD_GB_MONTH = 0.023
# One request is one log line; the S3 log format's example lines are about 490 bytes, and a
# role's ARN as the requester makes ours a little longer.
ACCESS_LOG_LINE_BYTES = 500
ACCESS_LOGGING = "aws:s3/bucketLogging:BucketLogging"
ACCESS_LOG_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def print_access_log_costs(run: ProgramRun) -> None:
    """What the checkpoint bucket's server access logs cost: their storage, per GB and per
    million requests kept (how many requests the jobs make is theirs to know)."""
    loggings = run.by_type(ACCESS_LOGGING)
    if not loggings:
        print("\n  Checkpoint access logs: none (checkpointAccessLogs: false)")
        return
    (logging,) = loggings
    lifecycle = run.one(ACCESS_LOG_LIFECYCLE, "checkpoints-access-logs-lifecycle")
    days = int(lifecycle.inputs["rules"][0]["expiration"]["days"])
    per_million = ACCESS_LOG_LINE_BYTES * 1_000_000 / 1e9
    print(f"\n  Checkpoint access logs (checkpointAccessLogs), kept {days} days in the bucket")
    print(f"    {logging.inputs['targetBucket']}")
    print(
        f"    S3 Standard storage: {S3_STANDARD_GB_MONTH:.3f} per GB-month (us-east-1's first "
        "50 TB; other regions' differ); S3 bills nothing to turn them on or deliver them"
    )
    print(
        f"    a request is one log line of about {ACCESS_LOG_LINE_BYTES} bytes: "
        f"{per_million:.2f} GB, {per_million * S3_STANDARD_GB_MONTH:.2f} a month, per million "
        "requests kept"
    )
