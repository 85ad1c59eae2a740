"""`make plan`'s per-job runtime defaults: the writable paths of a read-only root, the
architecture and whether building it here needs emulation, capacity and what an interruption
does."""

from __future__ import annotations

import re

import pytest

from components.config import parse
from tests.unit.helpers import dev_config
from tests.unit.test_plan import plan_config, section
from tools import job_defaults

HEADING = "Runtime defaults: what each job's container may do on Fargate"
PUBLIC = "public.ecr.aws/docker/library/alpine:3.22.2@sha256:" + "4" * 64


def test_the_dev_plan_shows_each_jobs_defaults_and_emulation_on_x86(tmp_path, monkeypatch):
    monkeypatch.setattr(job_defaults.platform, "machine", lambda: "x86_64")
    code, out, _ = plan_config(tmp_path, "dev", dev_config())
    assert code == 0
    lines = section(out, HEADING)
    report = lines.index("  report  (containers/report)")
    assert lines[report : report + 5] == [
        "  report  (containers/report)",
        "    root filesystem  read-only; writable: /tmp (emptied when the task stops; add paths "
        "with scratchPaths)",
        "    architecture     arm64 (linux/arm64): this machine is x86_64, so building the image "
        "needs emulation (QEMU registered with binfmt_misc; see docs/troubleshooting.md)",
        "    capacity         Fargate Spot (FARGATE_SPOT): AWS may stop a task at any time with "
        "SIGTERM and two minutes' warning",
        "    interruption     SIGTERM, then SIGKILL 120 s later (the container's stopTimeout); "
        "the run is re-run up to 3 times (interruptionRetries), on on-demand capacity "
        "(onInterruption)",
    ]
    assert [line for line in lines if not line.startswith("    ")] == [
        HEADING,
        "  hello-world  (containers/hello-world)",
        "  report  (containers/report)",
    ]


def test_a_job_that_opts_out_shows_what_it_chose(tmp_path, monkeypatch):
    monkeypatch.setattr(job_defaults.platform, "machine", lambda: "x86_64")
    config = dev_config()
    config["longjobs:jobs"]["report"].update(
        architecture="x86_64", capacity="on-demand", interruptionRetries=0,
        readonlyRootFilesystem=False,
    )  # fmt: skip
    config["longjobs:jobs"]["hello-world"].update(
        scratchPaths=["/var/cache/hello", "/data"], onInterruption="spot"
    )
    code, out, _ = plan_config(tmp_path, "chosen", config)
    assert code == 0
    lines = section(out, HEADING)
    assert lines[2] == (
        "    root filesystem  read-only; writable: /tmp, /var/cache/hello, /data (emptied when "
        "the task stops; add paths with scratchPaths)"
    )
    assert lines[5].endswith("re-run up to 3 times (interruptionRetries), on spot capacity "
                             "(onInterruption)")  # fmt: skip
    assert lines[7:11] == [
        "    root filesystem  writable everywhere (readonlyRootFilesystem: false)",
        "    architecture     x86_64 (linux/amd64), built natively on this x86_64 machine",
        "    capacity         Fargate on-demand (FARGATE): no Spot interruptions; Fargate may "
        "still retire a task for maintenance",
        "    interruption     SIGTERM, then SIGKILL 120 s later (the container's stopTimeout); "
        "the run is not re-run (interruptionRetries: 0): it ends FAILED",
    ]


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        ("aarch64", "arm64 (linux/arm64), built natively on this aarch64 machine"),
        ("arm64", "arm64 (linux/arm64), built natively on this arm64 machine"),
        ("AMD64", "arm64 (linux/arm64): this machine is AMD64, so building the image needs "
                  "emulation (QEMU registered with binfmt_misc; see docs/troubleshooting.md)"),
    ],
)  # fmt: skip
def test_the_architecture_line_knows_each_systems_word_for_its_machine(machine, expected):
    job = parse({"jobs": {"hello-world": {}}}).jobs["hello-world"]
    assert dict(job_defaults.job_defaults(job, 120, machine))["architecture"] == expected


def test_a_prebuilt_image_needs_a_variant_not_a_build():
    job = parse({"jobs": {"resize": {"image": PUBLIC}}}).jobs["resize"]
    assert dict(job_defaults.job_defaults(job, None, "x86_64")) == {
        "root filesystem": "read-only; writable: /tmp (emptied when the task stops; add paths "
        "with scratchPaths)",
        "architecture": "arm64 (linux/arm64): the image must hold a linux/arm64 variant",
        "capacity": "Fargate Spot (FARGATE_SPOT): AWS may stop a task at any time with SIGTERM "
        "and two minutes' warning",
        "interruption": "SIGTERM, then SIGKILL 30 s later (the container's stopTimeout); the "
        "run is re-run up to 3 times (interruptionRetries), on on-demand capacity "
        "(onInterruption)",
    }


def test_the_operations_page_names_each_heading_the_plan_prints(tmp_path):
    from offline.program import PROJECT_ROOT

    config = dev_config()
    config["longjobs:kms"] = "create"  # the KMS key's heading is printed only with kms
    code, out, _ = plan_config(tmp_path, "keyed", config)
    assert code == 0
    lines = out.splitlines()
    printed = [
        line
        for before, line in zip(lines, lines[1:], strict=False)
        if before == "" and line[:1] != " "
    ]
    page = " ".join((PROJECT_ROOT / "docs" / "operations.md").read_text().split())
    sentence = page.split("The plan prints its parts under these headings: ", 1)[1]
    # The headings, in order, without what the parentheses say of them (`kms`).
    listed = re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", sentence.split(". ", 1)[0]))
    assert len(printed) == len(listed)
    # Each heading is the name listed, whole, then its explanation, if any.
    named = [
        re.match(re.escape(name) + r"(\W|$)", line)
        for line, name in zip(printed, listed, strict=True)
    ]
    assert all(named), (printed, listed)
