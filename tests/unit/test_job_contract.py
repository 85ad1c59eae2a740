"""The per-job contract from the config side: the model's bounds come from its declarations,
and every setting a job's config gives reaches the functions' config file."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from components.config import ConfigError, JobConfig, parse
from longjobs_contract import settings, trigger_config
from longjobs_contract.jobs import JobContract
from offline.program import run_program
from tests.unit.helpers import dev_config

# For each contract setting a job's stack config gives: the keys written under the job and the
# value the functions must get. Every value differs from the contract's default.
FROM_CONFIG = {
    "capacity": ({"capacity": "on-demand"}, "on-demand"),
    "reserved_environment": (
        {
            "secrets": {
                "DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db",
                "API_TOKEN": "arn:aws:ssm:us-east-1:123456789012:parameter/api",
            }
        },
        ("API_TOKEN", "DB_PASSWORD"),
    ),
    "overridable_environment": (
        {"environment": {"ROWS": "10"}, "parameters": ["DAY"]},
        ("DAY", "ROWS"),
    ),
    "allow_command_override": ({"allowCommandOverride": True}, True),
    "allow_capacity_override": ({"allowCapacityOverride": False}, False),
    "retries": ({"retries": 10}, 10),
    "interruption_retries": ({"interruptionRetries": 0}, 0),
    "on_interruption": ({"onInterruption": "spot"}, "spot"),
    "timeout_seconds": ({"timeout": "2h"}, 7200),
    "notify": ({"notify": "all"}, "all"),
    "max_wait_for_capacity_seconds": ({"maxWaitForCapacity": "1d"}, 86400),
    "start_timeout_seconds": ({"startTimeout": "45m"}, 2700),
    "allowed_callers": ({"allowedCallers": ["account"]}, ("account",)),
}


def test_the_table_covers_every_setting_a_job_config_gives():
    sourced = {name for name, declared in settings.settings(JobContract).items() if declared.source}
    assert set(FROM_CONFIG) == sourced


def test_every_setting_of_a_job_reaches_the_functions():
    config = dev_config()
    report = config["longjobs:jobs"]["report"]
    for name in ("environment", "parameters", "secrets", "secretsKmsKeyArns", "schedules"):
        report.pop(name, None)
    for changes, _ in FROM_CONFIG.values():
        report.update(changes)
    job = trigger_config.loads(run_program(config=config).trigger_config).jobs["report"]
    defaults = {field.name: field.default for field in dataclasses.fields(JobContract)}
    for name, (_, expected) in FROM_CONFIG.items():
        assert (name, getattr(job, name)) == (name, expected)
        assert expected != defaults[name], name


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "retries",
            11,
            "longjobs:jobs.report.retries: 11 is more than 10; allowed: a whole number from 0 to 10",
        ),
        (
            "timeout",
            "31d",
            "longjobs:jobs.report.timeout: '31d' is 31 days; allowed: 1 minute to 30 days, as "
            "seconds or like 45m, 2h, 1h30m",
        ),
        (
            "maxWaitForCapacity",
            "25h",
            "longjobs:jobs.report.maxWaitForCapacity: '25h' is 25 hours; allowed: 1 minute to 1 "
            "day, as seconds or like 45m, 2h, 1h30m",
        ),
        (
            "startTimeout",
            "3h",
            "longjobs:jobs.report.startTimeout: '3h' is 3 hours; allowed: 1 minute to 2 hours, as "
            "seconds or like 45m, 2h, 1h30m",
        ),
        (
            "notify",
            "sometimes",
            "longjobs:jobs.report.notify: 'sometimes' is not allowed; allowed: 'failures', 'all' "
            "or 'none'",
        ),
    ],
)
def test_the_config_takes_its_bounds_from_the_contract(key, value, message):
    values = {
        key.split(":", 1)[1]: value
        for key, value in dev_config().items()
        if key.startswith("longjobs:")
    }
    values["jobs"]["report"][key] = value
    with pytest.raises(ConfigError) as caught:
        parse(values)
    assert caught.value.problems == [message]


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"
# Settings a job config gives through a property of the model, not a key of its own.
DERIVED = {"reserved_environment", "overridable_environment"}


def _model_key(source: str) -> str:
    return JobConfig.model_fields[source].alias or source


def _accepts(key: str, value: object) -> bool:
    try:
        JobConfig.model_validate({"image": IMAGE, key: value})
    except ValidationError:
        return False
    return True


def model_sourced_settings() -> list:
    return [
        pytest.param(name, declared, id=name)
        for name, declared in settings.settings(JobContract).items()
        if declared.source is not None and name not in DERIVED
    ]


def test_every_setting_a_job_config_gives_is_a_key_of_the_model_or_derived_from_one():
    for name, declared in settings.settings(JobContract).items():
        if declared.source is None:
            continue
        if name in DERIVED:
            assert isinstance(getattr(JobConfig, declared.source), property), name
        else:
            assert declared.source in JobConfig.model_fields, name


@pytest.mark.parametrize(("name", "declared"), model_sourced_settings())
def test_the_model_holds_each_setting_to_its_declaration(name, declared):
    """The model's default, bounds and choices are the contract's: a model that drifted would
    accept what the functions then refuse (or refuse what they accept)."""
    key = _model_key(declared.source)
    job = JobConfig.model_validate({"image": IMAGE})
    default = settings.default(JobContract, name)
    if default is not dataclasses.MISSING:  # capacity's depends on the job (its service)
        assert getattr(job, declared.source) == default
    if declared.kind is int:
        assert _accepts(key, declared.minimum) and _accepts(key, declared.maximum)
        assert not _accepts(key, declared.minimum - 1)
        assert not _accepts(key, declared.maximum + 1)
    elif declared.choices:
        assert all(_accepts(key, choice) for choice in declared.choices)
        assert not _accepts(key, "".join(declared.choices))
    elif declared.kind is bool:
        assert _accepts(key, True) and _accepts(key, False)
        assert not _accepts(key, "yes")
    elif declared.kind is tuple:
        assert _accepts(key, ["account"])
        assert not _accepts(key, [""]) and not _accepts(key, ["account", "account"])
        assert _accepts(key, []) is (declared.min_items == 0)
    else:
        raise AssertionError(f"{name}: no check for a {declared.kind.__name__} setting")
    if declared.optional:
        assert _accepts(key, None)
