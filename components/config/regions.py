"""The stack's region: that `aws:region` is one AWS has, and what the config names in other
regions that the stack's services or its VPC endpoints cannot reach."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from pydantic import TypeAdapter, ValidationError

from components.config.errors import key_path, shown
from components.config.types import AvailabilityZoneName, ImageUri, KmsKeyArn, SecretArn

# The regions of AWS's three public partitions: aws, aws-cn (China) and aws-us-gov (GovCloud),
# as AWS's "Regions and Availability Zones" page lists them and botocore's data/endpoints.json
# holds them (botocore 1.44.18, read 2026-12-06; tests/unit/test_config_keys.py compares them).
# The isolated partitions (aws-iso*, aws-eusc) are left out: nothing here is deployed there.
AWS_REGIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
            "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
            "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
            "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
            "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
            "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
            "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        ),
        "aws",
    ),
    **dict.fromkeys(("cn-north-1", "cn-northwest-1"), "aws-cn"),
    **dict.fromkeys(("us-gov-east-1", "us-gov-west-1"), "aws-us-gov"),
}  # fmt: skip
REGION_KEY = "aws:region"

# A private ECR repository's URI: what the VPC endpoints of `natGateways: none` can reach.
ECR_IMAGE = re.compile(r"\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/.+")
_KEY: TypeAdapter[str] = TypeAdapter(KmsKeyArn)
_ZONE: TypeAdapter[str] = TypeAdapter(AvailabilityZoneName)
_SECRET: TypeAdapter[str] = TypeAdapter(SecretArn)
_IMAGE: TypeAdapter[str] = TypeAdapter(ImageUri)


def region_problem(region: Any) -> str | None:
    """Why `aws:region` is not a region AWS has, with the nearest one, or None."""
    if region in AWS_REGIONS:
        return None
    nearest = difflib.get_close_matches(str(region).lower(), AWS_REGIONS, n=1)
    guess = f"; did you mean {nearest[0]}?" if nearest else ";"
    return (
        f"{REGION_KEY}: {shown(region)} is not an AWS region{guess} allowed: "
        f"{', '.join(AWS_REGIONS)}"
    )


def _valid(value: Any, adapter: TypeAdapter[str]) -> TypeGuard[str]:
    """Whether the value passes its own field's check (else that problem is reported)."""
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def other_region_problems(values: Mapping[str, Any], region: str) -> list[str]:
    """A key of another region (the stack's services take keys of their own region only), and
    zones of another region (the VPC is made in the stack's)."""
    problems = []
    kms = values.get("kms")
    if _valid(kms, _KEY) and kms.split(":")[3] != region:
        problems.append(
            f"{key_path('kms')}: {kms!r} is a key in {kms.split(':')[3]}; the stack deploys to "
            f"{region}, and its services take keys of their own region only; allowed: create, "
            f"or a key in {region}"
        )
    network = values.get("network")
    create = network.get("create") if isinstance(network, Mapping) else None
    zones = create.get("availabilityZoneNames") if isinstance(create, Mapping) else None
    problems += [
        f"{key_path('network', 'create', 'availabilityZoneNames')}: {zone!r} is not a zone of "
        f"{region}, where the stack deploys; allowed: {region} and a letter"
        for zone in (zones if isinstance(zones, list) else [])
        if _valid(zone, _ZONE) and zone[:-1] != region
    ]
    return problems


def endpoint_only_problems(name: str, job: Mapping[str, Any], region: str | None) -> list[str]:
    """With `network.create.natGateways: none` tasks reach AWS through VPC endpoints only, and
    those answer for the stack's region: an image must be in a private ECR repository of that
    region (Docker Hub, ECR Public or another region could never be pulled), and a secret must
    be kept there. Without the region (a check of the config alone) only the registry is known.
    """
    problems = []
    image = job.get("image")
    if _valid(image, _IMAGE):
        match = ECR_IMAGE.match(image)
        where = region or "the stack's region"
        if match is None or (region is not None and match.group(1) != region):
            held = f"is in {match.group(1)}" if match else "is not in a private ECR repository"
            problems.append(
                f"{key_path('jobs', name, 'image')}: {image!r} {held}, and with "
                f"network.create.natGateways none tasks reach only ECR in {where} (through VPC "
                f"endpoints); allowed: an image in a private ECR repository of {where} "
                f"(<account>.dkr.ecr.{region or '<region>'}.amazonaws.com/<name>), build, or "
                "natGateways single or onePerAz"
            )
    secrets = job.get("secrets")
    for variable, arn in secrets.items() if isinstance(secrets, Mapping) and region else ():
        if _valid(arn, _SECRET) and arn.split(":")[3] != region:
            problems.append(
                f"{key_path('jobs', name, 'secrets', variable)}: {arn!r} is in "
                f"{arn.split(':')[3]}; with network.create.natGateways none tasks reach "
                f"{arn.split(':')[2]} in {region} only; allowed: a secret of the stack's region, "
                "or natGateways single or onePerAz"
            )
    return problems
