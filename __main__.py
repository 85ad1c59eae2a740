"""longjobs: long-running jobs on ECS Fargate, declared in stack config."""

import gc

import pulumi
import pulumi_aws as aws

from components.config import from_pulumi_config, lint_warnings
from components.context import StackContext
from components.platform import JobPlatform, JobPlatformArgs

# The cyclic garbage collector stays off for the rest of this process. Declaring a stack makes
# hundreds of thousands of objects (resources, their Outputs, futures, asyncio tasks) that live
# until the engine has answered every registration, i.e. about until the process exits; each
# full collection rescanned all of them to free little, and the rescans grow with the stack:
# 45% of a 100-job run, 53% of a 300-job one (benchmarks/program_bench.py). It is safe because
# the program is short-lived: the cycles it leaves (futures and their callbacks, exceptions and
# their tracebacks) are freed when it exits, and reference counting still frees everything else
# at once. Measured under mocks: +11 MB peak at 100 jobs, +32 MB at 300. It is done here, in the
# program, so that it holds under the Pulumi CLI and not only offline; turning the collector back
# on at the end of this file would not help, as most of the work runs after this file returns.
# A process that runs the program and goes on (pytest) turns it back on itself.
gc.disable()

# Every check of the config runs before anything is declared; the provider is asked for its
# region only when the config sets no aws:region.
config = from_pulumi_config(lambda: aws.get_region().region)
# hadolint's findings below its failing level fail nothing: the CLI prints each as a warning.
for warning in lint_warnings(config):
    pulumi.log.warn(warning)
platform = JobPlatform(
    "longjobs", JobPlatformArgs(config=config, context=StackContext.current(config.tags))
)
for key, value in platform.outputs.items():
    pulumi.export(key, value)
