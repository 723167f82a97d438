import base64

import pytest
from shipyard.tools.registry import (
    RegistryError,
    checked_git_sha,
    digest_address,
    ecr_region,
    login_from_ecr_token,
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
