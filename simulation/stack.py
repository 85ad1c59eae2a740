"""The stack the simulation deploys: two jobs with lifecycle rules, as the functions' config
file would hold them, and a deploy that changes them."""

from __future__ import annotations

import dataclasses
from typing import Any

from longjobs_contract import capacity, trigger_config
from longjobs_contract.jobs import JobContract, LifecycleRules

REGION = "eu-west-1"
ACCOUNT = "123456789012"
PREFIX = "longjobs-sim"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{PREFIX}"
TABLE = "longjobs-sim-runs"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:longjobs-sim"
FAILURE_QUEUE = "longjobs-sim-supervisor-failures"
FAILURE_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{FAILURE_QUEUE}"
TRIGGER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:longjobs-sim-trigger"
SUPERVISOR_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:longjobs-sim-supervisor"
FORWARDER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:longjobs-sim-alarms"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
VARIABLE = "SIM_RUN"
"""The one variable a simulated run sets (a run may set only what its job declares)."""

RULES = {
    "report": LifecycleRules(
        retries=1, interruption_retries=2, on_interruption="on-demand", notify="all"
    ),
    "import": LifecycleRules(
        retries=1,
        interruption_retries=2,
        on_interruption="on-demand",
        timeout_seconds=600,
        notify="failures",
    ),
}
CAPACITY = {"report": capacity.SPOT, "import": capacity.ON_DEMAND}
CONTAINER = {"report": "report", "import": "importer"}


@dataclasses.dataclass(frozen=True)
class Deployed:
    """What one deploy of the stack declares."""

    revision: int = 1
    jobs: tuple[str, ...] = tuple(RULES)
    retention_days: int = 90

    def config(self) -> trigger_config.TriggerConfig:
        contracts = {
            job: JobContract(
                task_definition_arn=(
                    f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/longjobs-sim-{job}:"
                    f"{self.revision}"
                ),
                container_name=CONTAINER[job],
                capacity=CAPACITY[job],
                log_group=f"/longjobs/sim/{job}",
                overridable_environment=(VARIABLE,),
                **_fields(RULES[job]),
            )
            for job in self.jobs
        }
        return trigger_config.TriggerConfig(
            cluster_arn=CLUSTER,
            subnet_ids=("subnet-0123456789abcdef0",),
            security_group_ids=("sg-0123456789abcdef0",),
            assign_public_ip=False,
            runs_table=TABLE,
            run_retention_days=self.retention_days,
            checkpoint_bucket=f"longjobs-sim-checkpoints-{ACCOUNT}-{REGION}",
            jobs=contracts,
            notifications_topic=TOPIC,
            supervisor_failure_queue=FAILURE_QUEUE,
        )


def _fields(rules: LifecycleRules) -> dict[str, Any]:
    return {f.name: getattr(rules, f.name) for f in dataclasses.fields(LifecycleRules)}
