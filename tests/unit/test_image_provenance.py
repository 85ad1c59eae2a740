"""Which image a job runs, and who may put one in its repository.

An image in ECR under the tag a build would push is run only if the stack recorded pushing that
digest under that tag; the repository's policy lets only the deploying principal (for an
assumed role, the role) and the stack's pushers write images.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import components.image
from components.image import WRITE_ACTIONS, image_tag, record_name
from components.job import ECR_PULL_ACTIONS
from offline.program import MOCK_ACCOUNT, PROJECT_ROOT, AwsMocks, ProgramRun, run_program
from tests.unit.helpers import containers, dev_config, statements

REGION = "us-east-1"
IMAGE = "docker:index/image:Image"
PARAMETER = "aws:ssm/parameter:Parameter"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REPORT = "longjobs-dev/report"
TAG = image_tag(PROJECT_ROOT / "containers" / "report", "arm64")
OURS = "sha256:" + "b" * 64
FOREIGN = "sha256:" + "f" * 64
EARLIER_TAG = "arm64-" + "1" * 24


def built(run: ProgramRun, job: str = "report") -> bool:
    return any(image.name == f"{job}-image" for image in run.by_type(IMAGE))


def records(run: ProgramRun) -> dict[str, Any]:
    """The record parameters declared, name -> (type, value)."""
    found = run.by_type(PARAMETER)
    return {p.inputs["name"]: (p.inputs["type"], p.inputs["insecureValue"]) for p in found}


def recorded(tag: str, digest: str, job: str = "report") -> dict[str, str]:
    return {record_name("longjobs-dev", job, tag): digest}


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(components.image.pulumi.log, "warn", lambda msg, **_: seen.append(msg))
    return seen


def test_an_image_in_ecr_the_stack_has_no_record_of_pushing_is_not_run(warnings):
    # Anyone who could push could have put it there: the tag is a hash of files a pull request
    # shows. It is built again; its push then fails while the tag holds the other image.
    run = run_program(mocks=AwsMocks(REGION, pushed={REPORT: {TAG: FOREIGN}}))
    assert built(run)
    [container] = containers(run, "report")
    assert container["image"] == run.one(IMAGE, "report-image").state["repoDigest"]
    assert FOREIGN not in container["image"]
    assert warnings == [
        f"{REPORT}:{TAG} holds {FOREIGN}, which this stack has no record of pushing: it is not "
        "run, the image is built again. Its push fails while the tag holds that image (the tags "
        "are immutable): find who pushed it (CloudTrail, PutImage), delete it, and run "
        "`pulumi up` again."
    ]


def test_a_record_of_another_digest_under_the_tag_is_no_provenance(warnings):
    mocks = AwsMocks(REGION, pushed={REPORT: {TAG: FOREIGN}}, parameters=recorded(TAG, OURS))
    run = run_program(mocks=mocks)
    assert built(run)
    assert len(warnings) == 1
    # The stale record goes; the build's own takes its name.
    built_digest = run.one(IMAGE, "report-image").state["repoDigest"].split("@")[1]
    assert records(run)[record_name("longjobs-dev", "report", TAG)] == ("String", built_digest)


def test_the_image_the_stack_pushed_under_the_tag_runs_and_its_records_stay(warnings):
    gone_tag = "arm64-" + "2" * 24
    moved_tag = "arm64-" + "3" * 24
    in_ecr = {TAG: OURS, EARLIER_TAG: "sha256:" + "1" * 64, moved_tag: FOREIGN}
    parameters = {
        **recorded(TAG, OURS),
        **recorded(EARLIER_TAG, "sha256:" + "1" * 64),  # an earlier state of the folder
        **recorded(gone_tag, "sha256:" + "2" * 64),  # expired from the repository
        **recorded(moved_tag, "sha256:" + "3" * 64),  # deleted and pushed again by another
        **recorded("arm64-" + "4" * 24, "sha256:" + "4" * 64, job="hello-world"),
    }
    run = run_program(mocks=AwsMocks(REGION, pushed={REPORT: in_ecr}, parameters=parameters))
    assert not built(run) and built(run, "hello-world")
    [container] = containers(run, "report")
    repository = run.one("aws:ecr/repository:Repository", "report-repository")
    assert container["image"] == f"{repository.state['repositoryUrl']}@{OURS}"
    assert run.outputs["jobs"]["report"]["imageUri"] == container["image"]
    hello = run.one(IMAGE, "hello-world-image").state["repoDigest"].split("@")[1]
    hello_tag = image_tag(PROJECT_ROOT / "containers" / "hello-world", "arm64")
    assert records(run) == {
        "/longjobs-dev/images/report/" + TAG: ("String", OURS),
        "/longjobs-dev/images/report/" + EARLIER_TAG: ("String", "sha256:" + "1" * 64),
        "/longjobs-dev/images/hello-world/" + hello_tag: ("String", hello),
    }
    assert warnings == []


def test_a_build_is_recorded_with_the_digest_it_pushed(dev):
    for job in ("hello-world", "report"):
        tag = image_tag(PROJECT_ROOT / "containers" / job, "arm64")
        [record] = [p for p in dev.by_type(PARAMETER) if p.name == f"{job}-pushed-{tag}"]
        digest = dev.one(IMAGE, f"{job}-image").state["repoDigest"].split("@")[1]
        assert record.inputs["name"] == f"/longjobs-dev/images/{job}/{tag}"
        assert (record.inputs["type"], record.inputs["insecureValue"]) == ("String", digest)
        assert "value" not in record.inputs  # shown by `pulumi preview`: it is no secret
        assert record.inputs["tags"]["longjobs:job"] == job


def policy(run: ProgramRun, job: str = "report") -> dict[str, Any]:
    resource = run.one(REPOSITORY_POLICY, f"{job}-policy")
    assert resource.inputs["repository"] == f"longjobs-dev/{job}"
    return json.loads(resource.inputs["policy"])


def only(*principals: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOnlyByTheDeployer",
                "Effect": "Deny",
                "Principal": "*",
                "Action": [
                    "ecr:BatchDeleteImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:PutImageTagMutability",
                    "ecr:UploadLayerPart",
                ],
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": list(principals)}},
            }
        ],
    }


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_only_the_deploying_principal_may_write_images(dev, job):
    assert policy(dev, job) == only(f"arn:aws:iam::{MOCK_ACCOUNT}:user/plan")


def test_an_assumed_role_is_named_by_the_role_with_its_path_not_the_session():
    mocks = AwsMocks(
        REGION,
        caller_arn=f"arn:aws:sts::{MOCK_ACCOUNT}:assumed-role/deploy/gh-actions-4242",
        role_paths={"deploy": "/ci/"},
    )
    run = run_program(mocks=mocks)
    assert policy(run) == only(f"arn:aws:iam::{MOCK_ACCOUNT}:role/ci/deploy")


@pytest.mark.parametrize("job", ["hello-world", "report"])
def test_the_stacks_image_pushers_may_write_images_too(job):
    deployer = f"arn:aws:iam::{MOCK_ACCOUNT}:user/plan"
    config = dev_config()
    config["longjobs:imagePushers"] = [
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/ci/release",
        deployer,  # named once
        "arn:aws:iam::111122223333:user/builder",
    ]
    assert policy(run_program(config=config), job) == only(
        deployer,
        "arn:aws:iam::111122223333:user/builder",
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/ci/release",
    )


def test_execution_roles_still_pull(dev):
    assert WRITE_ACTIONS == only()["Statement"][0]["Action"]
    assert not set(ECR_PULL_ACTIONS) & set(WRITE_ACTIONS)
    [pull] = [s for s in statements(dev, "report-execution-policy") if s["Sid"] == "EcrPull"]
    assert pull["Action"] == ECR_PULL_ACTIONS
    assert pull["Resource"] == f"arn:aws:ecr:{REGION}:{MOCK_ACCOUNT}:repository/{REPORT}"


def test_the_build_pushes_only_once_the_policy_names_the_deployer(monkeypatch):
    seen = {}
    image = components.image.docker.Image
    original = image.__init__

    def recording(self, resource_name, *args, **kwargs):
        seen[resource_name] = [d._name for d in kwargs["opts"].depends_on]
        original(self, resource_name, *args, **kwargs)

    monkeypatch.setattr(image, "__init__", recording)
    run_program()
    assert seen == {"hello-world-image": ["hello-world-policy"], "report-image": ["report-policy"]}
