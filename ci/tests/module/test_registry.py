import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from shipyard.tools.registry import (
    RegistryError,
    checked_git_sha,
    digest_address,
    ecr_region,
    login_from_ecr_token,
    routed,
    split_repository,
)

ECR = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32


def test_repositories_split_into_host_and_path() -> None:
    assert split_repository(f"{ECR}/scidata-gridserve") == (ECR, "scidata-gridserve")
    assert split_repository("localhost:5000/shipyard-test/gridserve") == (
        "localhost:5000",
        "shipyard-test/gridserve",
    )


@pytest.mark.parametrize(
    ("repository", "names"),
    [
        ("gridserve", "has no registry host"),
        ("library/gridserve", "has no registry host"),
        (f"{ECR}/gridserve:v1", "carries a tag or digest"),
        (f"{ECR}/gridserve@{DIGEST}", "carries a tag or digest"),
    ],
)
def test_unusable_repositories_are_refused_with_the_fix(repository: str, names: str) -> None:
    with pytest.raises(RegistryError, match=names):
        split_repository(repository)


def test_only_ecr_hosts_need_an_ecr_login() -> None:
    assert ecr_region(ECR) == "ap-southeast-2"
    assert ecr_region("localhost:5000") is None
    assert ecr_region("ghcr.io") is None


def test_the_push_answer_becomes_the_address_ecs_deploys() -> None:
    published = f"{ECR}/gridserve:abc1234@{DIGEST}"
    assert digest_address(f"{ECR}/gridserve", published) == f"{ECR}/gridserve@{DIGEST}"
    with pytest.raises(RegistryError, match="without a sha256 digest"):
        digest_address(f"{ECR}/gridserve", f"{ECR}/gridserve:abc1234")


def test_git_shas_are_checked() -> None:
    assert checked_git_sha("abc1234") == "abc1234"
    with pytest.raises(RegistryError, match="7-40 lowercase hex"):
        checked_git_sha("main")


def test_the_ecr_token_is_decoded_and_never_shown() -> None:
    token = base64.b64encode(b"AWS:very-secret-password").decode()
    answer = {
        "authorizationData": [{"authorizationToken": token, "proxyEndpoint": f"https://{ECR}"}]
    }
    login = login_from_ecr_token(answer)
    assert (login.host, login.username, login.password) == (ECR, "AWS", "very-secret-password")
    assert "very-secret-password" not in repr(login)
    assert "very-secret-password" not in str(login)
    with pytest.raises(RegistryError, match="ecr:GetAuthorizationToken"):
        login_from_ecr_token({"authorizationData": []})


def test_a_routed_host_is_pushed_to_at_its_route_and_others_stay() -> None:
    routes = [(ECR, "localhost:5000/rehearsal-1")]
    assert (
        routed(f"{ECR}/gridserve-staging", routes) == "localhost:5000/rehearsal-1/gridserve-staging"
    )
    assert routed("ghcr.io/org/gridserve", routes) == "ghcr.io/org/gridserve"


def ecr_login(
    tmp_path: Path, endpoint: str, **credentials: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [
            *(sys.executable, "-m", "shipyard.tools.registry", "ecr-login"),
            *("--region", "ap-southeast-2", "--endpoint-url", endpoint),
            *("--password-file", str(tmp_path / "password")),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**environment, "AWS_EC2_METADATA_DISABLED": "true", **credentials},
    )


def test_ecr_login_writes_the_password_to_its_file_only(tmp_path: Path, moto_url: str) -> None:
    keys = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    done = ecr_login(tmp_path, moto_url, **keys)
    assert done.returncode == 0, done.stderr
    password = (tmp_path / "password").read_text()
    assert done.stdout.strip() == "AWS"
    assert password
    assert password not in done.stdout + done.stderr
    assert stat.S_IMODE((tmp_path / "password").stat().st_mode) == 0o600


def test_ecr_login_without_credentials_says_what_to_pass(tmp_path: Path, moto_url: str) -> None:
    done = ecr_login(tmp_path, moto_url)
    assert done.returncode == 2
    assert done.stderr.startswith("ECR sign-in: Unable to locate credentials")
    assert not (tmp_path / "password").exists()
