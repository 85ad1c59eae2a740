"""JobImage: a job's ECR repository and its image, built from containers/<job> and pushed.

An image found in the repository under the tag this build would push is run instead of being
built again only if this stack pushed it: the stack records each digest it pushed (an SSM
parameter an image) and ECR must still hold that digest under that tag. Who may
push at all is limited by the repository's policy to the deploying principal and the pushers
the stack names.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components import encryption
from components.config.names import name_prefix
from components.config.paths import PROJECT_ROOT
from components.context import StackContext
from components.dockerfile import base_digests

KEEP_IMAGES = 10
PLATFORMS = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}
# What writes or removes an image ("Amazon ECR actions" in the Service Authorization Reference):
# a push's layer upload and manifest, a delete (which would free an immutable tag for another
# image) and a switch to mutable tags (which would let a push overwrite one).
WRITE_ACTIONS = [
    "ecr:BatchDeleteImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:PutImageTagMutability",
    "ecr:UploadLayerPart",
]


def image_tag(folder: Path, architecture: str, build_args: Mapping[str, str] | None = None) -> str:
    """An image tag that changes exactly when what makes the image does: the platform, the build
    args, the digest of every image the Dockerfile builds from, and every file of the folder.

    The repository's tags are immutable, so a rebuild must never reuse a tag; an unchanged
    build keeps its tag, its digest and so its task definition revision. ValueError when a base
    image is not pinned by digest: a tag-only base can change under an unchanged tag.
    """
    args = dict(build_args or {})
    digest = hashlib.sha256()

    def part(*values: bytes) -> None:
        for value in values:  # length-prefixed: no two different inputs write the same bytes
            digest.update(len(value).to_bytes(8, "big") + value)

    part(b"platform", PLATFORMS[architecture].encode())
    for name, value in sorted(args.items()):
        part(b"build-arg", name.encode(), value.encode())
    for base in base_digests(folder / "Dockerfile", args):
        part(b"base", base.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        mode = b"x" if os.access(path, os.X_OK) else b"-"
        part(b"file", relative.encode(), mode, path.read_bytes())
    return f"{architecture}-{digest.hexdigest()[:24]}"


def repository_policy(principals: Sequence[str]) -> str:
    """Deny writing images to everyone but `principals`, matched by `aws:PrincipalArn`.

    Within the account an identity policy alone grants ECR actions ("Private repository policies
    in Amazon ECR": either policy may allow), so only an explicit Deny limits who may push.
    `aws:PrincipalArn` holds a role's ARN for every session of the role ("AWS global condition
    context keys"). A negated operator with several values is true when the key matches none of
    them, and when the request has no such key ("IAM JSON policy elements: Condition
    operators"): a request without a principal ARN is denied too. Pulls are not named:
    execution roles keep pulling with their own policies.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WriteOnlyByTheDeployer",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": WRITE_ACTIONS,
                    "Condition": {"ArnNotLike": {"aws:PrincipalArn": list(principals)}},
                }
            ],
        }
    )


def record_name(prefix: str, job: str, tag: str) -> str:
    """The SSM parameter recording the digest the stack pushed to the job's repository under
    `tag`: one parameter an image, each a resource of the stack, under `records_path`."""
    return f"{records_path(prefix)}/{job}/{tag}"


def records_path(prefix: str) -> str:
    return f"/{prefix}/images"


def lifecycle_policy() -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "expire untagged images after a day",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 1,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"keep the newest {KEEP_IMAGES} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": KEEP_IMAGES,
                    },
                    "action": {"type": "expire"},
                },
            ]
        }
    )


@dataclass(frozen=True)
class Registry:
    """This account's ECR registry in the stack's region, looked up once for every job."""

    token: pulumi.Output[aws.ecr.GetAuthorizationTokenResult]
    """Push credentials, shared by every build."""
    repositories: frozenset[str]
    """The repositories that exist already."""
    deployer: str
    """The principal running the program, as `aws:PrincipalArn` names it: an assumed role's
    ARN (with its path), not its session's."""
    records: Mapping[str, str] = field(default_factory=dict)
    """What the stack recorded having pushed: record parameter name -> digest."""
    key_arn: str | None = None
    """The KMS key repositories are to be encrypted with: None for ECR's AES256, `STACK_KEY`
    for the stack's own (`kms: create`), whose ARN is not known before it exists."""

    @classmethod
    def current(cls, key_arn: str | None = None) -> Registry:
        prefix = name_prefix(pulumi.get_project(), pulumi.get_stack())
        # The records are String parameters: reading them needs no KMS key.
        records = aws.ssm.get_parameters_by_path(
            path=records_path(prefix), recursive=True, with_decryption=False
        )
        return cls(
            token=aws.ecr.get_authorization_token_output(),
            repositories=frozenset(aws.ecr.get_repositories().names),
            deployer=principal_arn(aws.get_caller_identity().arn),
            records=dict(zip(records.names or [], records.values or [], strict=True)),
            key_arn=key_arn,
        )

    def images(self, repository: str) -> dict[str, str]:
        """The repository's tagged images, {tag: digest}.

        A repository whose encryption is about to change is replaced with an empty one: nothing
        in it counts.
        """
        if repository not in self.repositories or not self._encrypted_as_wanted(repository):
            return {}
        found = aws.ecr.get_images(repository_name=repository).image_ids
        return {i.image_tag: i.image_digest for i in found if i.image_tag}

    def recorded(self, prefix: str, job: str) -> dict[str, str]:
        """What the stack recorded having pushed to the job's repository: {tag: digest}."""
        under = f"{records_path(prefix)}/{job}/"
        return {n.removeprefix(under): d for n, d in self.records.items() if n.startswith(under)}

    def _encrypted_as_wanted(self, repository: str) -> bool:
        found = aws.ecr.get_repository(name=repository).encryption_configurations
        kind = found[0].encryption_type if found else "AES256"
        if self.key_arn is None:
            return kind == "AES256"
        if self.key_arn == STACK_KEY:
            # The program gives its repositories no other KMS key than the stack's own, unless
            # the config named another before: that switch is the one a rebuild is not seen for.
            return kind == "KMS"
        return kind == "KMS" and found[0].kms_key == self.key_arn


def principal_arn(caller_arn: str) -> str:
    """The ARN a policy's `aws:PrincipalArn` holds for the caller: for an assumed-role session
    (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) the role's own ARN, whose path
    only IAM knows (the provider's `aws_iam_session_context` asks it); any other ARN as it is."""
    return aws.iam.get_session_context(arn=caller_arn).issuer_arn


STACK_KEY = "(the stack's own key)"


@dataclass(frozen=True)
class JobImageArgs:
    job: str
    """The job the image is for: the repository is `<prefix>/<job>`."""
    folder: Path
    """The build context: the job's folder under containers/."""
    architecture: str
    """The CPU architecture the image is built for: `arm64` or `x86_64`."""
    context: StackContext
    """The stack the repository is named, tagged and encrypted for."""
    registry: Registry
    """The account's registry: what is pushed already, and the credentials to push."""
    pushers: Sequence[str] = ()
    """Principals besides the deploying one that may push to the repository (IAM role or user
    ARNs, as `aws:PrincipalArn` names them); none by default."""
    build_args: Mapping[str, str] = field(default_factory=dict)
    """Build args for the build, each part of the image tag; none by default."""


class JobImage(pulumi.ComponentResource):
    """A job's ECR repository `<prefix>/<job>` and its image, built from the job's folder."""

    repository: aws.ecr.Repository
    """Immutable tags, scan on push, deleted with the stack."""
    lifecycle: aws.ecr.LifecyclePolicy
    """Expire untagged images after a day, keep the newest ten."""
    policy: aws.ecr.RepositoryPolicy
    """Only the deploying principal and the stack's pushers may push or delete images."""
    image: docker.Image | None
    """The build, or None when the image this stack pushed under the tag is in the repository."""
    records: list[aws.ssm.Parameter]
    """What the stack pushed that the repository still holds, one parameter a tag: the image
    now run, and those an earlier state of the folder may run again."""

    repository_url: pulumi.Output[str]
    """The repository's URL."""
    repository_arn: str
    """The repository's ARN, known before it exists (policies name it at preview)."""
    image_uri: pulumi.Output[str]
    """The pushed image by digest (`repo@sha256:...`): what the task definition runs."""

    def __init__(
        self,
        name: str,
        args: JobImageArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("longjobs:index:JobImage", name, None, opts)
        # First: a base not pinned by digest stops the program before the job declares anything.
        self.tag = image_tag(args.folder, args.architecture, args.build_args)
        child = pulumi.ResourceOptions(parent=self)
        repository_name = f"{args.context.prefix}/{args.job}"
        self.repository = self._create_repository(name, repository_name, args.context, args.job)
        self.lifecycle = aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(),
            opts=child,
        )
        principals = [args.registry.deployer]
        principals += sorted(set(args.pushers) - {args.registry.deployer})
        self.policy = aws.ecr.RepositoryPolicy(
            f"{name}-policy",
            repository=self.repository.name,
            policy=repository_policy(principals),
            opts=child,
        )
        self.repository_url = self.repository.repository_url
        self.repository_arn = args.context.arn("ecr", f"repository/{repository_name}")
        in_repository = args.registry.images(repository_name)
        recorded = args.registry.recorded(args.context.prefix, args.job)
        # Ours only if the digest under the tag is the one the stack recorded pushing there.
        ours = {t: d for t, d in recorded.items() if in_repository.get(t) == d}
        pushed = ours.pop(self.tag, None)
        if pushed:
            self.image = None
            digest: pulumi.Output[str] = pulumi.Output.from_input(pushed)
            self.image_uri = self.repository_url.apply(lambda url: f"{url}@{pushed}")
        else:
            if self.tag in in_repository:
                self._warn_foreign(repository_name, in_repository[self.tag])
            self.image = self._create_image(name, args)
            self.image_uri = self.image.repo_digest
            digest = self.image.repo_digest.apply(lambda uri: uri.rsplit("@", 1)[-1])
        self.records = [
            self._record(name, args, self.tag, digest),
            *(self._record(name, args, tag, d) for tag, d in sorted(ours.items())),
        ]
        self.register_outputs({"repositoryUrl": self.repository_url, "imageUri": self.image_uri})

    def _create_repository(
        self, name: str, repository_name: str, context: StackContext, job: str
    ) -> aws.ecr.Repository:
        return aws.ecr.Repository(
            f"{name}-repository",
            name=repository_name,
            image_tag_mutability="IMMUTABLE",
            # Images are rebuilt from containers/: `pulumi destroy` removes them with the stack.
            force_delete=True,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[encryption.repository(context)],
            tags=context.tags_for(job),
            # ECR cannot change a repository's encryption: a new key means a new repository,
            # and its name is taken until the old one is gone.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

    def _warn_foreign(self, repository: str, digest: str) -> None:
        pulumi.log.warn(
            f"{repository}:{self.tag} holds {digest}, which this stack has no record of "
            "pushing: it is not run, the image is built again. Its push fails while the tag "
            "holds that image (the tags are immutable): find who pushed it (CloudTrail, "
            "PutImage), delete it, and run `pulumi up` again.",
            resource=self,
        )

    def _record(
        self, name: str, args: JobImageArgs, tag: str, digest: pulumi.Input[str]
    ) -> aws.ssm.Parameter:
        # A String parameter: a tag and a digest are no secret (the repository lists them), and
        # `pulumi preview` shows the value. Only the deployer should be allowed to write these.
        return aws.ssm.Parameter(
            f"{name}-pushed-{tag}",
            name=record_name(args.context.prefix, args.job, tag),
            type="String",
            insecure_value=digest,
            description=f"longjobs {args.job}: the digest this stack pushed under {tag}",
            tags=args.context.tags_for(args.job),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_image(self, name: str, args: JobImageArgs) -> docker.Image:
        tag = self.tag
        token = args.registry.token
        # Relative to the project folder, where Pulumi runs the program: the same inputs from
        # any checkout, so moving the project does not rebuild under an existing tag.
        relative = args.folder.relative_to(PROJECT_ROOT).as_posix()
        return docker.Image(
            f"{name}-image",
            image_name=self.repository.repository_url.apply(lambda url: f"{url}:{tag}"),
            build=docker.DockerBuildArgs(
                context=relative,
                dockerfile=f"{relative}/Dockerfile",
                platform=PLATFORMS[args.architecture],
                args=dict(args.build_args) or None,
                builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
            ),
            # `pulumi preview` (pull-request checks) needs neither Docker nor registry access.
            build_on_preview=False,
            registry=docker.RegistryArgs(
                server=self.repository.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            # A deployer new to the stack may push only once the policy names it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
