"""Container registry addresses and ECR sign-in: pure parsing plus one boto3 edge."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Final

_ECR_HOST: Final = re.compile(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_GIT_SHA: Final = re.compile(r"^[0-9a-f]{7,40}$")
_DIGEST: Final = re.compile(r"@(sha256:[0-9a-f]{64})$")


class RegistryError(ValueError):
    """A repository address, tag or registry answer is unusable; the message says how to fix it."""


@dataclass(frozen=True)
class RegistryLogin:
    """Credentials for one registry host. repr hides the password."""

    host: str
    username: str
    password: str

    def __repr__(self) -> str:
        return f"RegistryLogin(host={self.host!r}, username={self.username!r}, password=***)"


def split_repository(repository: str) -> tuple[str, str]:
    """``host[:port]/path`` → (host, path); refuses tags, digests and bare names."""
    host, sep, path = repository.partition("/")
    if not sep or not path or ("." not in host and ":" not in host and host != "localhost"):
        raise RegistryError(
            f"repository {repository!r} has no registry host; pass the full address, e.g. "
            "<account>.dkr.ecr.<region>.amazonaws.com/gridserve "
            "(terraform output ecr_repository_url)"
        )
    if "@" in path or ":" in path:
        raise RegistryError(
            f"repository {repository!r} carries a tag or digest; pass it without one "
            "(the pipeline tags with the git SHA and latest)"
        )
    return host, path


def ecr_region(host: str) -> str | None:
    """The AWS region of an ECR registry host, or None for any other registry."""
    match = _ECR_HOST.match(host)
    return match.group(1) if match else None


def checked_git_sha(git_sha: str) -> str:
    if not _GIT_SHA.match(git_sha):
        raise RegistryError(
            f"git SHA {git_sha!r} is not 7-40 lowercase hex digits; pass $(git rev-parse HEAD) "
            "(GitHub: ${{ github.sha }})"
        )
    return git_sha


def digest_address(repository: str, published: str) -> str:
    """``repo:tag@sha256:...`` as returned by a push → ``repo@sha256:...``, what ECS deploys."""
    match = _DIGEST.search(published)
    if not match:
        raise RegistryError(
            f"the registry answered {published!r} without a sha256 digest; check that {repository} "
            "accepts pushes (repository exists, credentials allow ecr:PutImage)"
        )
    return f"{repository}@{match.group(1)}"


def login_from_ecr_token(answer: dict[str, Any]) -> RegistryLogin:
    """Decode ECR's GetAuthorizationToken answer (base64 ``AWS:<password>``)."""
    try:
        data = answer["authorizationData"][0]
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        host = data["proxyEndpoint"].removeprefix("https://")
    except (KeyError, IndexError, ValueError) as error:
        raise RegistryError(
            f"ECR GetAuthorizationToken answer lacks {error.__class__.__name__}; check the "
            "region and that the role allows ecr:GetAuthorizationToken"
        ) from None
    return RegistryLogin(host=host, username=user, password=password)


def _ecr_client(
    region: str, access_key_id: str, secret_access_key: str, session_token: str | None
) -> Any:
    import boto3  # type: ignore[import-untyped, unused-ignore]

    return boto3.client(
        "ecr",
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token or None,
    )


def ecr_login(
    region: str, access_key_id: str, secret_access_key: str, session_token: str | None
) -> RegistryLogin:
    """Ask ECR for a 12-hour registry password with the given (short-lived) credentials."""
    client = _ecr_client(region, access_key_id, secret_access_key, session_token)
    return login_from_ecr_token(client.get_authorization_token())
