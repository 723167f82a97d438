"""Container registry addresses and ECR sign-in: pure parsing plus one boto3 edge.

``python3 -m shipyard.tools.registry ecr-login --region R --password-file F`` signs in inside a
step container (AWS credentials from its environment): it prints the user name and writes the
password to F only, so it never reaches a log.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

ECR_HOST: Final = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$"
)
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
    match = ECR_HOST.match(host)
    return match.group("region") if match else None


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


def ecr_login(region: str, endpoint_url: str | None = None) -> RegistryLogin:
    """Ask ECR for a 12-hour registry password with the environment's AWS credentials."""
    import boto3  # type: ignore[import-untyped, unused-ignore]

    client = boto3.client("ecr", region_name=region, endpoint_url=endpoint_url or None)
    return login_from_ecr_token(client.get_authorization_token())


def routed(repository: str, routes: Iterable[tuple[str, str]]) -> str:
    """The repository's address through the route for its host, (host, address[/prefix]), if any.

    A rehearsal's ECR host is an address the engine cannot resolve; its route names the real
    registry the images go to instead.
    """
    host, path = split_repository(repository)
    for routed_host, address in routes:
        if routed_host == host:
            return f"{address.rstrip('/')}/{path}"
    return repository


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m shipyard.tools.registry")
    verbs = parser.add_subparsers(dest="verb", required=True)
    login = verbs.add_parser("ecr-login", help="sign in to ECR; print the user name")
    login.add_argument("--region", required=True)
    login.add_argument("--endpoint-url", help="an ECR-compatible API (the rehearsal's front)")
    login.add_argument("--password-file", required=True, help="where the password goes (0600)")
    args = parser.parse_args(argv)
    import botocore.exceptions  # type: ignore[import-untyped, unused-ignore]

    try:
        signed_in = ecr_login(args.region, args.endpoint_url)
    except (RegistryError, botocore.exceptions.BotoCoreError) as error:
        print(f"ECR sign-in: {error}", file=sys.stderr)
        return 2
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        print(
            f"ECR sign-in refused ({code}); check the AWS credentials and that the role "
            "allows ecr:GetAuthorizationToken",
            file=sys.stderr,
        )
        return 2
    descriptor = os.open(args.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as password:
        password.write(signed_in.password)
    print(signed_in.username)
    return 0


if __name__ == "__main__":
    sys.exit(main())
