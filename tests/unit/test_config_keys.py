"""The stack's keys outside `longjobs:` that decide what it deploys: a namespace misspelt, and
`aws:region`, checked with every other problem before anything is declared."""

from __future__ import annotations

import json
import re

import botocore.loaders
import pytest

from components.config import ConfigError, parse_stack_config
from components.config.regions import AWS_REGIONS
from offline.program import AwsMocks, run_program
from tests.unit.helpers import dev_config

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def botocore_regions() -> list[str]:
    """Every region of the three public partitions in botocore's endpoints data."""
    endpoints = botocore.loaders.Loader().load_data("endpoints")
    by_partition = {p["partition"]: sorted(p["regions"]) for p in endpoints["partitions"]}
    return [region for partition in PARTITIONS for region in by_partition[partition]]


def problems(config: dict, region: str | None = "us-east-1") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, project="longjobs", stack="dev", region=region)
    return caught.value.problems


def test_the_dev_stack_is_valid_with_its_full_keys():
    config = parse_stack_config(dev_config(), project="longjobs", stack="dev", region=None)
    assert sorted(config.jobs) == ["hello-world", "report"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "longjob:tags",
            "longjob:tags: the namespace 'longjob' is not longjobs; write longjobs:tags",
        ),
        (
            "longjbos:tags",
            "longjbos:tags: the namespace 'longjbos' is not longjobs; write longjobs:tags",
        ),
        (
            "LongJobs:tags",
            "LongJobs:tags: the namespace 'LongJobs' is not longjobs; write longjobs:tags",
        ),
        (
            "long-jobs:tags",
            "long-jobs:tags: the namespace 'long-jobs' is not longjobs; write longjobs:tags",
        ),
    ],
)
def test_a_namespace_that_is_almost_longjobs_is_named(key, message):
    config = dev_config()
    config[key] = {"team": "data"}
    assert problems(config) == [message]


def test_jobs_under_a_misspelt_namespace_are_named_not_called_missing():
    config = dev_config()
    config["longjob:jobs"] = config.pop("longjobs:jobs")
    assert problems(config) == [
        "longjob:jobs: the namespace 'longjob' is not longjobs; write longjobs:jobs"
    ]


def test_other_namespaces_are_left_to_their_providers():
    config = {**dev_config(), "aws:profile": "ops", "pulumi:tags": {"a": "b"}, "docker:host": "x"}
    assert parse_stack_config(config, project="longjobs", stack="dev", region=None).jobs


def test_an_unknown_key_in_the_namespace_is_still_named():
    config = {**dev_config(), "longjobs:colour": {}}
    assert problems(config) == [
        "longjobs:colour: unknown key; allowed: network, jobs, tags, runRetentionDays, "
        "notifications, allowedCallers, imagePushers, containerInsights, kms, checkpointAccessLogs"
    ]


def test_aws_region_is_one_aws_has_with_the_nearest_suggested():
    config = {**dev_config(), "aws:region": "us-east1"}
    assert problems(config) == [
        "aws:region: 'us-east1' is not an AWS region; did you mean us-east-1? allowed: "
        + ", ".join(botocore_regions())
    ]
    config["aws:region"] = "local"
    assert problems(config) == [
        "aws:region: 'local' is not an AWS region; allowed: " + ", ".join(botocore_regions())
    ]


@pytest.mark.parametrize("region", ["eu-west-2", "cn-northwest-1", "us-gov-west-1", "mx-central-1"])
def test_regions_of_every_public_partition_are_taken(region):
    config = {**dev_config(), "aws:region": region}
    assert parse_stack_config(config, project="longjobs", stack="dev", region=None).jobs


def test_the_region_list_is_botocores_for_the_three_public_partitions():
    assert list(AWS_REGIONS) == botocore_regions()


def test_the_stacks_region_decides_what_other_regions_hold():
    # aws:region is the provider's region when set; the provider is asked only without it.
    config = dev_config()
    config["longjobs:kms"] = (
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    config["aws:region"] = "eu-west-1"
    [problem] = problems(config, region="us-east-1")
    assert problem.startswith("longjobs:kms: ") and "the stack deploys to eu-west-1" in problem
    del config["aws:region"]
    [problem] = problems(config, region="eu-west-2")
    assert problem.startswith("longjobs:kms: ") and "the stack deploys to eu-west-2" in problem


def test_the_program_reads_every_key_and_asks_the_provider_for_the_region_only_without_one():
    config = dev_config()
    config["longjob:tags"] = {"team": "data"}
    config["aws:region"] = "eu-west1"
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(ConfigError) as caught:
        run_program(config=config, mocks=mocks)
    assert caught.value.problems == [
        "longjob:tags: the namespace 'longjob' is not longjobs; write longjobs:tags",
        "aws:region: 'eu-west1' is not an AWS region; did you mean eu-west-1? allowed: "
        + ", ".join(botocore_regions()),
    ]
    assert mocks.resources == [] and mocks.invokes == []
    del config["longjob:tags"], config["aws:region"]
    config["longjobs:kms"] = (
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    mocks = AwsMocks("eu-west-2")
    with pytest.raises(ConfigError) as caught:
        run_program(config=config, mocks=mocks)
    assert [p.split(": ", 1)[0] for p in caught.value.problems] == ["longjobs:kms"]
    assert mocks.resources == [] and mocks.invokes == ["aws:index/getRegion:getRegion"]


DOTTED = (
    "a dotted key is the path pulumi config set --path takes, not a key of the stack file: nest it,"
)


def test_a_dotted_key_is_named_with_its_nested_form_and_its_value_checked():
    config = dev_config()
    config["longjobs:jobs.report.timeout"] = "2 hours"
    config["longjobs:network.subnetIds"] = ["subnet-0123456789abcdef0"]
    config["longjobs:network.create.natGateways"] = "none"
    assert problems(config) == [
        f'longjobs:jobs.report.timeout: {DOTTED} longjobs:jobs: {{report: {{timeout: "2 hours"}}}}; '
        "its value: '2 hours' is not a duration; allowed: 1 minute to 30 days, as seconds or "
        "like 45m, 2h, 1h30m",
        f'longjobs:network.subnetIds: {DOTTED} longjobs:network: {{subnetIds: ["subnet-0123456789abcdef0"]}}',
        f'longjobs:network.create.natGateways: {DOTTED} longjobs:network: {{create: {{natGateways: "none"}}}}',
    ]


def test_jobs_written_as_dotted_keys_are_not_also_called_missing():
    config = {k: v for k, v in dev_config().items() if k != "longjobs:jobs"}
    config["longjobs:jobs.report.cpu"] = 300
    assert problems(config) == [
        f"longjobs:jobs.report.cpu: {DOTTED} longjobs:jobs: {{report: {{cpu: 300}}}}; its value: "
        "300 is not a Fargate CPU size; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU "
        "units; 1024 is 1 vCPU)"
    ]


def test_a_namespace_written_as_a_mapping_is_one_line():
    jobs = dev_config()["longjobs:jobs"]
    config = {"aws:region": "us-east-1", "longjobs": {"jobs": jobs, "tags": {"team": "data"}}}
    assert problems(config) == [
        "longjobs: a namespace holding keys, which is not how Pulumi reads config: each key is "
        "namespace:key at the config: level; write longjobs:jobs, longjobs:tags"
    ]


def test_a_key_without_a_namespace_is_one_line():
    config = {k: v for k, v in dev_config().items() if k != "longjobs:jobs"}
    config["jobs"] = dev_config()["longjobs:jobs"]
    config["region"] = "eu-west-1"
    assert problems(config) == [
        "jobs: a config key without a namespace, which Pulumi does not take: keys are "
        "namespace:key; write longjobs:jobs",
        "region: a config key without a namespace, which Pulumi does not take: keys are "
        "namespace:key; write aws:region",
    ]


def aws_provider_keys() -> list[str]:
    """Every key the installed AWS provider's SDK reads: its config module is an instance of a
    module type with one property a key."""
    import pulumi_aws
    from pydantic.alias_generators import to_camel

    provider = pulumi_aws.config
    provider.region  # noqa: B018 - the package loads its modules when first read
    exportable = type(provider)
    return sorted(
        f"aws:{to_camel(name)}"
        for name, member in vars(exportable).items()
        if isinstance(member, property)
    )


def test_a_key_the_aws_provider_does_not_read_is_named_with_the_nearest():
    keys = aws_provider_keys()
    assert {"aws:region", "aws:profile", "aws:defaultTags", "aws:assumeRoles"} <= set(keys)
    config = {**dev_config(), "aws:regoin": "eu-west-1", "aws:profile": "ops"}
    assert problems(config) == [
        "aws:regoin: unknown key 'aws:regoin'; did you mean aws:region? allowed: the AWS "
        f"provider's keys, {', '.join(keys)}"
    ]
    config = {**dev_config(), "aws:colour": "blue"}
    assert problems(config) == [
        f"aws:colour: unknown key; allowed: the AWS provider's keys, {', '.join(keys)}"
    ]


def test_a_region_in_capitals_is_suggested_in_lower_case():
    config = {**dev_config(), "aws:region": "US-EAST-1"}
    assert problems(config) == [
        "aws:region: 'US-EAST-1' is not an AWS region; did you mean us-east-1? allowed: "
        + ", ".join(botocore_regions())
    ]


@pytest.mark.parametrize("marked", ["by the runtime", "in the environment"])
def test_the_program_refuses_a_secret_under_longjobs_it_would_write_in_plaintext(
    marked, monkeypatch
):
    # `pulumi config set --secret --path 'longjobs:jobs.report.environment.DB_PASSWORD'` marks
    # the whole key secret; the program gets the decrypted value. The SDK takes the marks from
    # its runtime settings or from PULUMI_CONFIG_SECRET_KEYS.
    config = dev_config()
    config["longjobs:jobs"]["report"]["environment"]["DB_PASSWORD"] = "hunter2"
    config["aws:secretKey"] = "provider-secret"
    secret_keys = ["longjobs:jobs", "aws:secretKey"]
    if marked == "in the environment":
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(secret_keys))
        secret_keys = []
    mocks = AwsMocks("us-east-1")
    with pytest.raises(ConfigError) as caught:
        run_program(config=config, mocks=mocks, secret_keys=secret_keys)
    assert caught.value.problems == [
        "longjobs:jobs: holds a secret (a value set with pulumi config set --secret, on the key "
        "or on a path under it); the program writes longjobs: values into resources in "
        "plaintext (a job's environment into its task definition, tags, policies), so none is "
        "taken there; allowed: plain values; a job reads a secret through its secrets: (an SSM "
        "parameter or Secrets Manager ARN)"
    ]
    assert mocks.resources == [] and mocks.invokes == []


def stack_config_tables() -> tuple[str, str]:
    """docs/stack-config.md's table of stack keys, and its table of a job's keys."""
    from offline.program import PROJECT_ROOT

    page = (PROJECT_ROOT / "docs" / "stack-config.md").read_text()
    jobs = page.index("Each job:")
    return page[:jobs], page[jobs : page.index("Config is validated before anything is declared")]


def test_every_stack_key_is_in_the_stack_config_pages_table():
    from components.config.load import KEYS

    table, _ = stack_config_tables()
    assert [key for key in KEYS if f"| `longjobs:{key}" not in table] == []


def test_every_job_key_is_in_the_stack_config_pages_job_table():
    from components.config.models import JobConfig

    _, table = stack_config_tables()
    # A row's first cell names its keys, one or more (`entryPoint`, `command`), or a key's path
    # under one (`service.desiredCount`).
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = {name.split(".")[0] for cell in rows for name in re.findall(r"`([^`]+)`", cell)}
    keys = {field.alias or name for name, field in JobConfig.model_fields.items()}
    assert sorted(keys - documented) == []
