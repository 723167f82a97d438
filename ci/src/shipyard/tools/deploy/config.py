"""Inputs of every deploy operation, validated before anything talks to AWS."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shipyard.decide import topology
from shipyard.tools.deploy.errors import DeployError
from shipyard.tools.registry import ECR_HOST

# The platform's services in deploy order, and its region: terraform's, defined once.
DEFAULT_SERVICES = topology.ROLES
DEFAULT_REGION = topology.REGION
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# ECS's rule for a container definition's name.
CONTAINER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$")
# Every AWS region name: ap-southeast-2, us-gov-west-1, cn-north-1, us-isob-east-1, ...
REGION = re.compile(r"^[a-z]{2,}(-[a-z]+)+-\d{1,2}$")
RETRY_MODES = ("standard", "adaptive")


@dataclass(frozen=True)
class Credentials:
    """Explicit AWS credentials. Only the access key id's last four characters are ever shown."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Credentials(access_key_id='…{self.access_key_id[-4:]}', secret=<hidden>)"

    def secrets(self) -> tuple[str, ...]:
        return tuple(
            s for s in (self.access_key_id, self.secret_access_key, self.session_token) if s
        )


@dataclass(frozen=True)
class ImageRef:
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def ecr_account(self) -> str | None:
        match = ECR_HOST.match(self.registry or "")
        return match.group("account") if match else None


def parse_image(reference: str) -> ImageRef:
    """Split `[registry/]repository[:tag][@sha256:digest]`."""
    if not reference or any(c.isspace() for c in reference):
        raise DeployError(
            f"image {reference!r} is not an image reference; pass e.g. "
            "ACCOUNT.dkr.ecr.REGION.amazonaws.com/gridserve@sha256:<digest> (what publish returns)"
        )
    name, _, digest = reference.partition("@")
    if digest and not DIGEST.match(digest):
        raise DeployError(
            f"image {reference!r}: the digest must be sha256:<64 hex>; copy it from "
            "publish's output"
        )
    registry: str | None = None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    repository, tag = name, None
    if ":" in name.rsplit("/", 1)[-1]:
        repository, _, tag = name.rpartition(":")
    if not repository:
        raise DeployError(f"image {reference!r} has no repository name; pass REPOSITORY[:TAG]")
    return ImageRef(registry, repository, tag or None, digest or None)


@dataclass(frozen=True)
class DeployConfig:
    """Everything a plan, verify, deploy or rollback needs.

    `image` is needed by plan, verify and deploy, not by rollback. `containers` maps a service
    to the container whose image is replaced in its task definition (terraform's
    `container_names` output, keyed by service name); the other containers, sidecars included,
    keep theirs. A service it does not name falls back to its task definition's only container,
    and a task definition with several containers then is an error. Rollback returns to recorded
    task definitions and needs no container names. Timeouts (per rollout) and the poll interval
    are in seconds; `max_attempts` counts every try of one AWS call, throttled ones retried with
    backoff in botocore's `retry_mode` ("standard" or "adaptive"). `grace_seconds` is how long
    an interrupted run (SIGINT/SIGTERM) keeps watching its rollbacks before it writes its
    report: GitHub sends SIGTERM 7.5 s after SIGINT and SIGKILL 2.5 s after that.
    """

    cluster: str
    image: str = ""
    services: tuple[str, ...] = DEFAULT_SERVICES
    containers: Mapping[str, str] = field(default_factory=dict)
    region: str = DEFAULT_REGION
    credentials: Credentials | None = None
    endpoint_url: str | None = None
    timeout_seconds: float = 900.0
    rollback_timeout_seconds: float | None = None
    poll_interval_seconds: float = 5.0
    force: bool = False
    max_attempts: int = 10
    retry_mode: str = "standard"
    grace_seconds: float = 7.0
    dossier_log_lines: int = 20

    def __post_init__(self) -> None:
        if not self.cluster.strip():
            raise DeployError("cluster is empty; pass the cluster name (terraform output)")
        if not self.services:
            raise DeployError("no services given; pass at least one, e.g. tiles")
        if len(set(self.services)) != len(self.services):
            raise DeployError(f"services {list(self.services)} repeat a name; list each once")
        if unknown := [service for service in self.containers if service not in self.services]:
            raise DeployError(
                f"a container is named for {', '.join(unknown)}, which is not among the services "
                f"{list(self.services)}; name containers only for the services deployed "
                "(--container SERVICE=CONTAINER with SERVICE one of them)"
            )
        if invalid := [
            f"{service}={name!r}"
            for service, name in self.containers.items()
            if not CONTAINER_NAME.match(name)
        ]:
            raise DeployError(
                f"container names {', '.join(invalid)} are not ECS container names; give the "
                "name from the task definition (terraform output container_names)"
            )
        for what, seconds, example in (
            ("timeout", self.timeout_seconds, 900),
            ("rollback timeout", self.rollback_timeout_seconds, 900),
            ("poll interval", self.poll_interval_seconds, 5),
            ("grace", self.grace_seconds, 7),
        ):
            if problem := seconds_problem(what, seconds, example):
                raise DeployError(problem)
        if not REGION.match(self.region):
            raise DeployError(
                f"region {self.region!r} is not an AWS region name; pass one like ap-southeast-2"
            )
        if self.max_attempts < 1:
            raise DeployError("max_attempts must be at least 1, e.g. 10")
        if self.retry_mode not in RETRY_MODES:
            raise DeployError(
                f"retry mode {self.retry_mode!r} is not one of botocore's; pass standard or "
                "adaptive"
            )
        if self.image:
            parse_image(self.image)

    def require_image(self) -> ImageRef:
        """The parsed image reference; a DeployError naming the fix when none was given."""
        if not self.image:
            raise DeployError(
                "no image given; pass the image reference publish returned (REPOSITORY@sha256:...)"
            )
        return parse_image(self.image)

    def container_for(self, service: str) -> str | None:
        """The container named for `service`, or None to use its task definition's only one."""
        return self.containers.get(service)

    @property
    def rollback_timeout(self) -> float:
        return self.rollback_timeout_seconds or self.timeout_seconds

    def secrets(self) -> tuple[str, ...]:
        return self.credentials.secrets() if self.credentials else ()


def seconds_problem(what: str, seconds: float | None, example: float) -> str | None:
    """Why `seconds` is not a usable duration (NaN, infinite, zero or negative), or None."""
    if seconds is None or (math.isfinite(seconds) and seconds > 0):
        return None
    return f"{what} {seconds} is not a positive finite number of seconds; pass e.g. {example}"


def parse_container_assignments(values: Sequence[str]) -> dict[str, str]:
    """`SERVICE=CONTAINER` command-line values as a mapping, each service at most once."""
    containers: dict[str, str] = {}
    for value in values:
        service, sep, container = value.partition("=")
        if not sep or not service or not container:
            raise DeployError(
                f"--container {value!r} is not SERVICE=CONTAINER; name the service and its "
                "container, e.g. --container tiles=tiles (terraform output container_names)"
            )
        if service in containers:
            raise DeployError(
                f"--container names service {service} twice ({containers[service]}, "
                f"{container}); give one container per service"
            )
        containers[service] = container
    return containers
