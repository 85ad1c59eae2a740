"""JobImage: a job's ECR repository and its image, built from containers/<job> and pushed."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components import encryption
from components.config.paths import PROJECT_ROOT
from components.context import StackContext

KEEP_IMAGES = 10
PLATFORMS = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}


def context_tag(folder: Path, architecture: str) -> str:
    """An image tag that changes exactly when the build context or the platform does.

    The repository's tags are immutable, so a rebuild must never reuse a tag; an unchanged
    folder keeps its tag, its digest and so its task definition revision.
    """
    digest = hashlib.sha256(architecture.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        digest.update(b"\0" + relative.encode() + b"\0")
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(path.read_bytes())
    return f"{architecture}-{digest.hexdigest()[:24]}"


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
    key_arn: str | None = None
    """The KMS key repositories are to be encrypted with: None for ECR's AES256, `STACK_KEY`
    for the stack's own (`kms: create`), whose ARN is not known before it exists."""

    @classmethod
    def current(cls, key_arn: str | None = None) -> Registry:
        return cls(
            token=aws.ecr.get_authorization_token_output(),
            repositories=frozenset(aws.ecr.get_repositories().names),
            key_arn=key_arn,
        )

    def pushed_digest(self, repository: str, tag: str) -> str | None:
        """The digest already pushed under `tag`, if any.

        Tags are immutable: pushing one that exists fails even with the same content. That
        happens whenever a build context returns to an earlier state (a revert) or the image is
        rebuilt from another checkout; the image pushed then is the one to run. A repository
        whose encryption is about to change is replaced with an empty one: nothing in it counts.
        """
        if repository not in self.repositories or not self._encrypted_as_wanted(repository):
            return None
        images = aws.ecr.get_images(repository_name=repository).image_ids
        return next((i.image_digest for i in images if i.image_tag == tag), None)

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


class JobImage(pulumi.ComponentResource):
    """A job's ECR repository `<prefix>/<job>` and its image, built from the job's folder."""

    repository: aws.ecr.Repository
    """Immutable tags, scan on push, deleted with the stack."""
    lifecycle: aws.ecr.LifecyclePolicy
    """Expire untagged images after a day, keep the newest ten."""
    image: docker.Image | None
    """The build, or None when the image of this content is in the repository already."""

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
        child = pulumi.ResourceOptions(parent=self)
        repository_name = f"{args.context.prefix}/{args.job}"
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=repository_name,
            image_tag_mutability="IMMUTABLE",
            # Images are rebuilt from containers/: `pulumi destroy` removes them with the stack.
            force_delete=True,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[encryption.repository(args.context)],
            tags=args.context.tags_for(args.job),
            # ECR cannot change a repository's encryption: a new key means a new repository,
            # and its name is taken until the old one is gone.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.lifecycle = aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(),
            opts=child,
        )
        self.tag = context_tag(args.folder, args.architecture)
        pushed = args.registry.pushed_digest(repository_name, self.tag)
        self.repository_url = self.repository.repository_url
        self.repository_arn = args.context.arn("ecr", f"repository/{repository_name}")
        if pushed:
            self.image = None
            self.image_uri = self.repository_url.apply(lambda url: f"{url}@{pushed}")
        else:
            self.image = self._create_image(
                name, args.folder, args.architecture, args.registry.token
            )
            self.image_uri = self.image.repo_digest
        self.register_outputs({"repositoryUrl": self.repository_url, "imageUri": self.image_uri})

    def _create_image(
        self,
        name: str,
        folder: Path,
        architecture: str,
        token: pulumi.Output[aws.ecr.GetAuthorizationTokenResult],
    ) -> docker.Image:
        tag = self.tag
        # Relative to the project folder, where Pulumi runs the program: the same inputs from
        # any checkout, so moving the project does not rebuild under an existing tag.
        relative = folder.relative_to(PROJECT_ROOT).as_posix()
        return docker.Image(
            f"{name}-image",
            image_name=self.repository.repository_url.apply(lambda url: f"{url}:{tag}"),
            build=docker.DockerBuildArgs(
                context=relative,
                dockerfile=f"{relative}/Dockerfile",
                platform=PLATFORMS[architecture],
                builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
            ),
            # `pulumi preview` (pull-request checks) needs neither Docker nor registry access.
            build_on_preview=False,
            registry=docker.RegistryArgs(
                server=self.repository.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
