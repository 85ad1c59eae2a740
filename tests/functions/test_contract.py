"""The trigger's config contract, the one shape both the components and the handler use."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from longjobs_contract import environment, loader_variables, settings, trigger_config
from longjobs_contract.jobs import JobContract, RunRules

CONFIG = trigger_config.TriggerConfig(
    cluster_arn="arn:aws:ecs:eu-west-1:123456789012:cluster/longjobs-prod",
    subnet_ids=("subnet-0123456789abcdef0",),
    security_group_ids=("sg-0123456789abcdef0",),
    assign_public_ip=False,
    runs_table="longjobs-prod-runs",
    run_retention_days=90,
    checkpoint_bucket="longjobs-prod-checkpoints-123456789012-eu-west-1",
    notifications_topic="arn:aws:sns:eu-west-1:123456789012:longjobs-prod-notifications",
    jobs={
        "report": JobContract(
            log_group="/longjobs/prod/jobs",
            task_definition_arn="arn:aws:ecs:eu-west-1:123456789012:task-definition/r:3",
            container_name="report",
            capacity="spot",
            reserved_environment=("DB_PASSWORD",),
            overridable_environment=("REPORT_DAY", "REPORT_ROWS"),
            allow_command_override=True,
        )
    },
)

# A value of each string setting that its pattern allows.
SAMPLE_TEXT = {
    "container_name": "importer",
    "task_definition_arn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/longjobs-imp:12",
    "log_group": "/longjobs/prod/import",
    "reserved_environment": ("API_TOKEN", "DB_PASSWORD"),
    "overridable_environment": ("DAY", "ROWS"),
    "allowed_callers": ("account", "arn:aws:iam::111122223333:role/reports-api"),
}


def other_than_default(name: str, declared: settings.Setting, default: object) -> object:
    """A value the declaration allows that is not the field's default."""
    if name in SAMPLE_TEXT:
        return SAMPLE_TEXT[name]
    if declared.choices:
        return next(choice for choice in declared.choices if choice != default)
    if declared.kind is bool:
        return not default
    if declared.kind is int:
        return declared.maximum if declared.maximum != default else declared.minimum
    raise AssertionError(f"{name}: add a sample value for a {declared.kind.__name__} setting")


def every_field_changed() -> JobContract:
    values = {
        field.name: other_than_default(
            field.name, settings.setting(JobContract, field.name), field.default
        )
        for field in dataclasses.fields(JobContract)
    }
    return JobContract(**values)


def test_every_field_of_a_job_is_declared_and_round_trips_with_a_value_not_its_default():
    job = every_field_changed()
    for field in dataclasses.fields(JobContract):
        assert getattr(job, field.name) != field.default, field.name
    config = dataclasses.replace(CONFIG, jobs={"import": job})
    assert trigger_config.loads(trigger_config.dumps(config)) == config
    written = json.loads(trigger_config.dumps(config))["jobs"]["import"]
    assert sorted(written) == sorted(
        settings.json_key(field.name) for field in dataclasses.fields(JobContract)
    )


def test_a_field_not_declared_is_an_error_not_skipped():
    @dataclasses.dataclass(frozen=True)
    class Forgotten(settings.Declared):
        retries: int = settings.declare(int, "Declared.", default=0)
        added: int = 0

    with pytest.raises(TypeError, match="Forgotten.added is not declared with declare"):
        settings.to_json(Forgotten())


def test_a_file_missing_a_job_setting_or_holding_another_is_refused():
    data = json.loads(trigger_config.dumps(CONFIG))
    del data["jobs"]["report"]["retries"]
    data["jobs"]["report"]["retryCount"] = 2
    with pytest.raises(ValueError, match="^jobs.report: missing retries; unknown retryCount$"):
        trigger_config.loads(json.dumps(data))


def test_the_version_changes_with_the_declarations():
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Grown(JobContract):
        max_concurrent: int = settings.declare(int, "Added.", default=0)

    assert settings.schema_version(trigger_config.TriggerConfig, JobContract) == (
        trigger_config.VERSION
    )
    assert settings.schema_version(trigger_config.TriggerConfig, Grown) != trigger_config.VERSION


def test_the_file_is_compact_versioned_json():
    text = trigger_config.dumps(CONFIG)
    assert json.loads(text)["version"] == trigger_config.VERSION
    assert " " not in text


SUBNET = r"subnet-\(\?:\[0-9a-f\]\{8\}\|\[0-9a-f\]\{17\}\)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), f"version must be {trigger_config.VERSION}, not 2"),
        (lambda d: d.pop("clusterArn"), "the config: missing clusterArn"),
        (
            lambda d: d.update(subnetIds="subnet-1"),
            f"subnetIds: must be a list of non-empty strings matching {SUBNET}, not 'subnet-1'",
        ),
        (
            lambda d: d.update(assignPublicIp="yes"),
            "assignPublicIp: must be true or false, not 'yes'",
        ),
        (
            lambda d: d["jobs"]["report"].update(capacity="cheap"),
            "jobs.report.capacity: must be spot or on-demand, not 'cheap'",
        ),
        (
            lambda d: d["jobs"]["report"].pop("taskDefinitionArn"),
            "jobs.report: missing taskDefinitionArn",
        ),
        (lambda d: d.update(clusterArn="longjobs-prod"), "clusterArn: 'longjobs-prod' does not"),
        (
            lambda d: d.update(clusterArn="arn:aws:ecs:eu-west-1:123456789012:task/x/y"),
            "clusterArn: .* does not match",
        ),
        (
            lambda d: d["jobs"]["report"].update(taskDefinitionArn="longjobs-prod-report:3"),
            "jobs.report.taskDefinitionArn: 'longjobs-prod-report:3' does not match",
        ),
        (
            lambda d: d["jobs"]["report"].update(
                taskDefinitionArn="arn:aws:ecs:us-east-1:123456789012:task-definition/r:3"
            ),
            "is not in the cluster's partition, region and account",
        ),
        (lambda d: d.update(subnetIds=["subnet-123"]), "subnetIds: 'subnet-123' does not match"),
        (
            lambda d: d.update(securityGroupIds=["sg-1234567890"]),
            "securityGroupIds: 'sg-1234567890' does not match",
        ),
        (lambda d: d.pop("checkpointBucket"), "the config: missing checkpointBucket"),
        (
            lambda d: d.update(checkpointBucket="Checkpoints_Bucket"),
            "checkpointBucket: 'Checkpoints_Bucket' does not match",
        ),
        (
            lambda d: d["jobs"]["report"].pop("overridableEnvironment"),
            "jobs.report: missing overridableEnvironment",
        ),
        (
            lambda d: d["jobs"]["report"].update(overridableEnvironment=["REPORT_DAY", "1X"]),
            "jobs.report.overridableEnvironment: '1X' is not a variable name",
        ),
        (
            lambda d: d["jobs"]["report"].update(overridableEnvironment=["LD_PRELOAD"]),
            "jobs.report.overridableEnvironment: 'LD_PRELOAD' is a loader or interpreter variable",
        ),
        (
            lambda d: d["jobs"]["report"].update(overridableEnvironment=["DB_PASSWORD"]),
            "jobs.report.overridableEnvironment: DB_PASSWORD also in reservedEnvironment",
        ),
        (
            lambda d: d["jobs"]["report"].update(overridableEnvironment=["B", "A"]),
            "jobs.report.overridableEnvironment: must be sorted, each name once",
        ),
        (
            lambda d: d["jobs"]["report"].update(overridableEnvironment=["A", "A"]),
            "jobs.report.overridableEnvironment: must be sorted, each name once",
        ),
        (
            lambda d: d["jobs"]["report"].pop("allowCommandOverride"),
            "jobs.report: missing allowCommandOverride",
        ),
        (
            lambda d: d["jobs"]["report"].update(allowCommandOverride="true"),
            "jobs.report.allowCommandOverride: must be true or false, not 'true'",
        ),
        (
            lambda d: d["jobs"]["report"].update(retries=11),
            "jobs.report.retries: must be a whole number from 0 to 10, not 11",
        ),
        (
            lambda d: d["jobs"]["report"].update(timeoutSeconds=True),
            "jobs.report.timeoutSeconds: must be a whole number from 60 to 2592000, or null, "
            "not True",
        ),
        (lambda d: d.update(jobs=[]), "jobs must be an object"),
        (lambda d: d.update(subnetIds=[]), "subnetIds: must hold at least 1, not 0"),
        (
            lambda d: d.update(subnetIds=["subnet-0123456789abcdef0"] * 2),
            "subnetIds: 'subnet-0123456789abcdef0' listed more than once",
        ),
        (
            lambda d: d["jobs"]["report"].update(reservedEnvironment=["DB", "DB"]),
            "jobs.report.reservedEnvironment: 'DB' listed more than once",
        ),
        (
            lambda d: d.update(runRetentionDays=1_000_000_000),
            "runRetentionDays: must be a whole number from 1 to 3653, not 1000000000",
        ),
        (
            lambda d: d["jobs"].update({"../x y": d["jobs"]["report"]}),
            r"jobs: '\.\./x y' is not a job name",
        ),
        (lambda d: d["jobs"].update({"": d["jobs"]["report"]}), "jobs: '' is not a job name"),
        (lambda d: d["jobs"].update(report=[]), "jobs.report must be a JSON object"),
    ],
)
def test_loads_names_the_bad_field(change, message):
    data = json.loads(trigger_config.dumps(CONFIG))
    change(data)
    with pytest.raises(ValueError, match=message):
        trigger_config.loads(json.dumps(data))


@pytest.mark.parametrize("name", ["REPORT_DAY", "_private", "a1"])
def test_valid_environment_names(name):
    assert environment.name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("AWS_REGION", "reserved"),
        ("ecs_container_metadata_uri", "reserved"),
        ("1ST", "not a variable name"),
        ("A-B", "not a variable name"),
        ("NAME\n", "not a variable name"),
        ("", "not a variable name"),
        (5, "not a variable name"),
    ],
)
def test_invalid_environment_names(name, message):
    assert message in environment.name_problem(name)


@pytest.mark.parametrize(
    "name",
    [
        "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "ld_preload", "DYLD_INSERT_LIBRARIES",
        "PATH", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONWARNINGS", "NODE_OPTIONS",
        "NODE_PATH", "BASH_ENV", "ENV", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
        "PERL5OPT", "PERL5LIB", "RUBYOPT", "RUBYLIB",
        # Found by a review: each makes a process load code or trust another server.
        "GCONV_PATH", "GLIBC_TUNABLES", "OPENSSL_CONF", "OPENSSL_MODULES", "SHELLOPTS", "PS4",
        "GIT_SSH_COMMAND", "GIT_CONFIG_GLOBAL", "LUA_INIT", "PERLLIB", "PERL5DB",
        "DOTNET_STARTUP_HOOKS", "CORECLR_PROFILER_PATH", "CLASSPATH", "PHPRC", "R_PROFILE_USER",
        "TCLLIBPATH", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "HOME",
        "https_proxy", "Lua_Init_5_4",
    ],
)  # fmt: skip
def test_loader_and_interpreter_variables(name):
    assert environment.is_loader_variable(name)
    entry = loader_variables.find(name)
    assert environment.loader_problem(name) == (
        f"{name!r} is a loader or interpreter variable ({entry.shown}: {entry.effect})"
    )


def test_every_loader_variable_says_what_it_does_and_where_that_is_documented():
    patterns = [entry.pattern for entry in loader_variables.CATALOGUE]
    assert len(patterns) == len(set(patterns))
    for entry in loader_variables.CATALOGUE:
        assert entry.pattern == entry.pattern.upper(), entry
        assert entry.effect and "https://" in entry.source, entry
        # A name entry that a prefix entry already covers would never be the one named.
        assert loader_variables.find(entry.pattern) is entry, entry


@pytest.mark.parametrize(
    "name", ["REPORT_DAY", "MYPATH", "PATH_PREFIX", "OLD_LD_PRELOAD", "ENVIRONMENT", "NODE_ENV"]
)
def test_other_variables_are_not_loader_variables(name):
    assert not environment.is_loader_variable(name)
    assert environment.loader_problem(name) is None


def test_overridable_is_the_declared_and_parameters_sorted_without_loader_variables():
    assert environment.overridable(["REPORT_ROWS", "PATH"], ["REPORT_DAY", "REPORT_ROWS"]) == (
        "REPORT_DAY",
        "REPORT_ROWS",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a\x00b", "'\\x00' at position 1"),
        ("\x1b[31m", "'\\x1b' at position 0"),
        ("\x7f", "'\\x7f' at position 0"),
        ("\ud800", "'\\ud800' at position 0"),
        ("tab\tnewline\ncr\r", None),
        ("Grüße, 東京", None),
    ],
)
def test_text_a_task_can_be_given(value, problem):
    found = environment.text_problem(value)
    assert (found is None) if problem is None else (problem in found)


def test_a_boolean_is_not_a_version():
    data = json.loads(trigger_config.dumps(CONFIG))
    data["version"] = True
    with pytest.raises(ValueError, match=f"version must be {trigger_config.VERSION}, not True"):
        trigger_config.loads(json.dumps(data))


def test_a_key_given_twice_in_the_file_is_refused_not_the_last_taken():
    text = trigger_config.dumps(CONFIG)
    twice = text.replace('"runRetentionDays":90', '"runRetentionDays":90,"runRetentionDays":1')
    with pytest.raises(ValueError, match="gives 'runRetentionDays' twice in one object"):
        trigger_config.loads(twice)


def test_a_list_given_for_a_tuple_setting_is_kept_as_a_tuple():
    rules = RunRules(container_name="r", capacity="spot", reserved_environment=["DB"])
    assert rules.reserved_environment == ("DB",)
    assert hash(rules)


@pytest.mark.parametrize("text", ["", "[]", "{not json", "[" * 100_000])
def test_loads_refuses_what_is_not_a_config_object(text):
    with pytest.raises(ValueError):
        trigger_config.loads(text)


ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = ROOT / "longjobs_contract"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_the_contract_package_lists_every_module_it_has():
    import longjobs_contract

    assert list(longjobs_contract.MODULES) == sorted(p.name for p in CONTRACT_DIR.glob("*.py"))


@pytest.mark.parametrize("module", sorted(p.name for p in CONTRACT_DIR.glob("*.py")))
def test_the_contract_needs_only_the_standard_library(module):
    allowed = set(sys.stdlib_module_names) | {"longjobs_contract"}
    assert imported_modules(CONTRACT_DIR / module) <= allowed


def function_imports(path: Path) -> set[str]:
    """What a module imports, the project's own modules by their whole dotted names."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif (
            isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("functions")
        ):
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("function", ["trigger", "supervisor", "alarms"])
def test_the_functions_need_only_the_lambda_runtime_and_what_their_package_ships(function):
    from components import alarm_forwarder, functions, supervisor, trigger

    packages = {
        "trigger": lambda: functions.package_files("trigger", trigger.FUNCTION_FILES),
        "supervisor": lambda: functions.package_files("supervisor", supervisor.FUNCTION_FILES),
        # Its contract modules too are only those it imports: test_alarm_forwarder_component.py.
        "alarms": alarm_forwarder.package_files,
    }
    shipped = packages[function]()
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore", "longjobs_contract"}
    modules = [name for name in shipped if name.startswith("functions/")]
    for name in modules:
        for module in function_imports(shipped[name]):
            if module.startswith("functions."):
                assert f"{module.replace('.', '/')}.py" in modules, (name, module)
            else:
                assert module.split(".")[0] in allowed, (name, module)


def test_the_functions_read_their_config_at_the_package_root_once(monkeypatch, tmp_path):
    from functions.common import runtime
    from functions.supervisor import supervisor
    from functions.trigger import handler

    assert handler.load_config is supervisor.load_config is runtime.load_config
    # The package's root is where `functions/` sits: the project's root here, Lambda's
    # /var/task in the deployment package, whose root holds the config file.
    assert runtime.PACKAGE_ROOT == ROOT
    (tmp_path / trigger_config.CONFIG_FILE).write_text(trigger_config.dumps(CONFIG))
    monkeypatch.delenv(trigger_config.CONFIG_PATH_VARIABLE, raising=False)
    monkeypatch.setattr(runtime, "PACKAGE_ROOT", tmp_path)
    handler.load_config.cache_clear()
    try:
        assert handler.load_config() == CONFIG
        (tmp_path / trigger_config.CONFIG_FILE).unlink()
        assert handler.load_config() == CONFIG  # cached: read once per execution environment
    finally:
        handler.load_config.cache_clear()


def test_a_cold_start_imports_only_what_every_action_needs(tmp_path):
    # Starting attempts, validating a run event and a stopped run's notice are imported by the
    # actions that need them, at their first request: a cold start compiles every module it
    # imports (Lambda's /var/task keeps no bytecode cache).
    code = (
        "import sys; from functions.trigger import handler; handler.load_config(); "
        "print(' '.join(sorted(n for n in sys.modules if n.startswith(('functions', "
        "'longjobs_contract')))))"
    )
    config_file = tmp_path / trigger_config.CONFIG_FILE
    config_file.write_text(trigger_config.dumps(CONFIG))
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        trigger_config.CONFIG_PATH_VARIABLE: str(config_file),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [
        "functions",
        "functions.common",
        "functions.common.clock",
        "functions.common.records",
        "functions.common.request_log",
        "functions.common.runtime",
        "functions.trigger",
        "functions.trigger.handler",
        "longjobs_contract",
        "longjobs_contract.callers",
        "longjobs_contract.capacity",
        "longjobs_contract.clock",
        "longjobs_contract.environment",
        "longjobs_contract.errors",
        "longjobs_contract.jobs",
        "longjobs_contract.loader_variables",
        "longjobs_contract.runs",
        "longjobs_contract.settings",
        "longjobs_contract.trigger_config",
    ]


def test_importing_the_handler_reads_no_config(tmp_path):
    # A cold start does only the client: a missing file is found at the first request.
    code = "from functions.trigger import handler; print(handler.load_config.cache_info().currsize)"
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        trigger_config.CONFIG_PATH_VARIABLE: str(tmp_path / "missing.json"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "0"
