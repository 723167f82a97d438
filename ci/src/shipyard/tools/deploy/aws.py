"""The boto3 edge: clients with retries, and AWS errors turned into DeployErrors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
import botocore.config  # type: ignore[import-untyped, unused-ignore]
import botocore.exceptions  # type: ignore[import-untyped, unused-ignore]
import botocore.loaders  # type: ignore[import-untyped, unused-ignore]
import botocore.session  # type: ignore[import-untyped, unused-ignore]

from shipyard.tools.deploy.config import DeployConfig
from shipyard.tools.deploy.errors import DeployError

CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
}
ACCESS_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
THROTTLE_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
}

AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)

CREDENTIALS_FIX = (
    "provide credentials through the standard AWS chain (AWS_ACCESS_KEY_ID/"
    "AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], a profile, or the CI's OIDC role) or pass "
    "them explicitly"
)


MIN_CREDENTIAL_LENGTH = 16

# Parsed service models are cached by the loader; sharing it makes each new client cheap.
_MODEL_LOADER = botocore.loaders.create_loader()


def boto3_session(region: str, **credentials: str) -> Any:
    """A boto3 session with its own credentials and the process-wide service model cache."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _MODEL_LOADER)
    return boto3.session.Session(botocore_session=core, region_name=region, **credentials)


@dataclass(frozen=True)
class Clients:
    ecs: Any
    ecr: Any
    logs: Any
    iam: Any
    sts: Any
    # The credentials the clients sign with, wherever boto3's chain found them: never shown.
    secrets: tuple[str, ...] = field(default=(), repr=False)


def chain_secrets(session: Any) -> tuple[str, ...]:
    """The resolved credentials of `session` (environment, profile, role), as strings to hide."""
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except AWS_ERRORS:
        return ()  # unusable credentials: the first call names the problem
    if frozen is None:
        return ()
    # Every real AWS credential is 16+ characters; a shorter value is a placeholder (the
    # rehearsal's "rehearsal"), and hiding it would garble each line that uses the word.
    values = (frozen.access_key, frozen.secret_key, frozen.token)
    return tuple(s for s in values if s and len(s) >= MIN_CREDENTIAL_LENGTH)


def connect(config: DeployConfig) -> Clients:
    """Clients for one region, retrying throttling and 5xx with botocore's retry mode."""
    explicit: dict[str, str] = {}
    if config.credentials is not None:
        explicit = {
            "aws_access_key_id": config.credentials.access_key_id,
            "aws_secret_access_key": config.credentials.secret_access_key,
        }
        if config.credentials.session_token:
            explicit["aws_session_token"] = config.credentials.session_token
    session = boto3_session(config.region, **explicit)
    client_config = botocore.config.Config(
        retries={"mode": config.retry_mode, "total_max_attempts": config.max_attempts},
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra="shipyard-deploy",
    )

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=config.endpoint_url, config=client_config)

    return Clients(
        client("ecs"),
        client("ecr"),
        client("logs"),
        client("iam"),
        client("sts"),
        secrets=chain_secrets(session),
    )


def error_code(error: BaseException) -> str | None:
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def transient(error: BaseException) -> bool:
    """Throttling, a 5xx answer or a dropped connection: worth another try, never a verdict."""
    if error_code(error) in THROTTLE_CODES:
        return True
    if isinstance(error, botocore.exceptions.ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500
    return isinstance(
        error,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ReadTimeoutError,
    )


def describe_error(error: BaseException, thing: str) -> DeployError:
    """Turn a botocore failure while handling `thing` into a message with the fix."""
    code = error_code(error)
    if isinstance(
        error, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return DeployError(f"AWS credentials: none usable were found; {CREDENTIALS_FIX}")
    if code in CREDENTIAL_CODES:
        return DeployError(
            f"AWS credentials were rejected ({code}) while reading {thing}; they are invalid "
            f"or expired: {CREDENTIALS_FIX}"
        )
    if code in ACCESS_CODES:
        return DeployError(
            f"access denied ({code}) on {thing}; grant the deploy role the ECS/ECR/logs/IAM "
            "read and ecs:RegisterTaskDefinition/UpdateService/TagResource/UntagResource/"
            "ListTagsForResource permissions"
        )
    if code in THROTTLE_CODES:
        return DeployError(
            f"AWS kept throttling calls on {thing} after every retry ({code}); retry later or "
            "raise max_attempts",
            transient=True,
        )
    if code == "ClusterNotFoundException":
        return DeployError(
            f"{thing}: the cluster does not exist in this region; check the cluster name "
            "(terraform output) and the region"
        )
    if code in {"ServiceNotFoundException", "ServiceNotActiveException"}:
        return DeployError(
            f"{thing}: the service is missing or not ACTIVE; check the service name or "
            "create it with terraform apply"
        )
    if isinstance(
        error, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectTimeoutError
    ):
        return DeployError(
            f"cannot reach the AWS endpoint while reading {thing}; check the network, the "
            "region or endpoint_url",
            transient=True,
        )
    if isinstance(error, botocore.exceptions.ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return DeployError(
            f"AWS refused a call on {thing}: {code}: {message}; fix the named input and retry",
            transient=transient(error),
        )
    return DeployError(
        f"AWS call on {thing} failed ({type(error).__name__}); retry, or report it",
        transient=transient(error),
    )


@contextmanager
def aws(thing: str) -> Iterator[None]:
    """Calls inside raise DeployError naming `thing` instead of raw botocore errors."""
    try:
        yield
    except AWS_ERRORS as error:
        raise describe_error(error, thing) from None
