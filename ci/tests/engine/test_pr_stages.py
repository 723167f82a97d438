"""The pull-request stages in the real engine: codecov-cli installed from its lock and run in the
pipeline's container against a local Codecov, the comment posted to a local GitHub.

The servers listen on every interface of this machine; the step containers reach them at the
docker bridge's address (SHIPYARD_TEST_HOST_ADDRESS, default 172.17.0.1), as they would reach
codecov.io or api.github.com.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import zipapp
from pathlib import Path

import dagger
import pytest
from shipyard.decide.images import ImageCatalog
from shipyard.decide.pipeline_flow import StageResult, Verdict
from shipyard.decide.pr_report import MARKER, PrReport, render_comment
from shipyard.module import pr_stages
from shipyard.tools.cost import cost_diff, headline, render_section

from ..pr.servers import GitHubIssues, codecov, json_reply, serve

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

REPO = Path(__file__).resolve().parents[3]
HOST = os.environ.get("SHIPYARD_TEST_HOST_ADDRESS", "172.17.0.1")
SHA = "0123456789abcdef0123456789abcdef01234567"
REGISTRY = "localhost:5000"
TOKEN = "c0dec0v-upl0ad-t0ken-in-the-engine"
COVERAGE = (
    '<?xml version="1.0" ?>\n<coverage line-rate="0.91" branch-rate="0.8"><packages/></coverage>\n'
)


def ci_source(client: dagger.Client) -> dagger.Directory:
    return client.host().directory(str(REPO / "ci"), exclude=["tests", "**/__pycache__"])


def lock(client: dagger.Client) -> dagger.File:
    return client.host().file(str(REPO / "scripts" / "tools" / "codecov.lock"))


async def test_coverage_is_uploaded_by_codecov_cli_in_the_pipeline_container(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    report = dagger_client.directory().with_new_file("coverage.xml", COVERAGE).file("coverage.xml")
    with serve(codecov, host="0.0.0.0", advertised=HOST) as server:
        target = pr_stages.CoverageTarget(SHA, slug="acme/shipyard", url=server.url)
        outcome = await pr_stages.coverage_upload(
            images, ci_source(dagger_client), lock(dagger_client), report,
            dagger_client.set_secret("codecov", TOKEN), target,
        )  # fmt: skip
    assert outcome.line == (
        f"uploaded coverage.xml (91.0 % of lines) → {server.url}/github/owner/repo/commit/{SHA}"
    )
    assert [r.method for r in server.requests] == ["POST", "POST", "POST", "PUT"]
    assert server.requests[0].headers["Authorization"] == f"token {TOKEN}"
    assert outcome.stage("coverage-upload").verdict is Verdict.PASSED


async def test_a_broken_codecov_and_a_missing_report_never_fail_the_stage(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    failed_tests = (
        dagger_client.container().from_(images.reference("PYTHON"))
        .with_exec(["sh", "-c", "exit 1"]).file("/src/coverage.xml")
    )  # fmt: skip
    report = dagger_client.directory().with_new_file("coverage.xml", COVERAGE).file("coverage.xml")
    secret = dagger_client.set_secret("codecov-2", TOKEN)
    with serve(lambda r, b: json_reply(503, {}), host="0.0.0.0", advertised=HOST) as server:
        target = pr_stages.CoverageTarget(SHA, slug="acme/shipyard", url=server.url)
        down = await pr_stages.coverage_upload(
            images, ci_source(dagger_client), lock(dagger_client), report, secret, target
        )
        missing = await pr_stages.coverage_upload(
            images, ci_source(dagger_client), lock(dagger_client), failed_tests, secret, target
        )
    assert down.line.startswith("warning: coverage upload failed (Request failed after too many")
    assert missing.line.startswith("warning: coverage upload could not run (")
    for outcome in (down, missing):
        assert TOKEN not in outcome.line
        assert outcome.stage("coverage-upload").verdict is Verdict.PASSED


async def test_the_comment_is_posted_then_updated_in_place(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    report = PrReport((("test", "passed", "12 passed in 1.0s; coverage 91%"),), SHA, "https://ci/1")
    github = GitHubIssues("acme/shipyard", "ghs_engineToken")
    secret = dagger_client.set_secret("github", "ghs_engineToken")
    with serve(github, host="0.0.0.0", advertised=HOST) as server:
        first = await pr_stages.pr_comment(
            images, ci_source(dagger_client), report, secret, "acme/shipyard", 7, server.url
        )
        second = await pr_stages.pr_comment(
            images, ci_source(dagger_client), report, secret, "acme/shipyard", 7, server.url
        )
    assert first.line.startswith("posted the report on pull request #7: ")
    assert second.line.startswith("updated the report on pull request #7: ")
    assert first.posted
    assert second.posted
    [only] = github.on(7)
    assert only["body"] == render_comment(report) == second.markdown
    assert only["body"].startswith(MARKER)


async def test_without_secrets_each_stage_is_skipped_in_one_line(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    ci = ci_source(dagger_client)
    empty = dagger_client.directory()
    report = PrReport((("lint", "passed", "clean"),), SHA, "")
    coverage = await pr_stages.coverage_upload(
        images, ci, lock(dagger_client), empty.file("x"), None, pr_stages.CoverageTarget(SHA)
    )
    cost = await pr_stages.cost_diff(images, ci, empty, empty, None)
    comment = await pr_stages.pr_comment(images, ci, report, None, "acme/shipyard", 7)
    assert coverage.stage("coverage-upload").verdict is Verdict.SKIPPED
    assert (coverage.line, cost.line) == (
        "skipped: no CODECOV_TOKEN",
        "skipped: no INFRACOST_API_KEY",
    )
    assert comment.line == "skipped: no GITHUB_TOKEN; the report is in the step summary"
    assert comment.markdown == render_comment(report)
    assert not comment.posted


STAND_IN = REPO / "ci" / "tests" / "pr" / "fixtures" / "infracost"
KEY = "ico-engineK3y"


def packed_stand_in(tmp_path: Path) -> Path:
    """The stand-in infracost and its recorded documents as one executable file (a zipapp)."""
    source = tmp_path / "stand-in"
    source.mkdir()
    shutil.copy(STAND_IN / "infracost", source / "__main__.py")
    for document in STAND_IN.glob("*.json"):
        shutil.copy(document, source / document.name)
    packed = tmp_path / "infracost"
    zipapp.create_archive(source, packed, interpreter="/usr/bin/env python3")
    return packed


async def stand_in_images(
    client: dagger.Client, images: ImageCatalog, tmp_path: Path
) -> ImageCatalog:
    """The pipeline's images with INFRACOST replaced by an image holding the stand-in, pushed
    to the kit's registry (the official image cannot be pulled here)."""
    image = (
        client.container()
        .from_(images.reference("PYTHON"))
        .with_file(
            "/usr/local/bin/infracost",
            client.host().file(str(packed_stand_in(tmp_path))),
            permissions=0o755,
        )
    )
    address = await image.publish(f"{REGISTRY}/shipyard-test/infracost-stand-in:{uuid.uuid4().hex}")
    return ImageCatalog({**images.overrides, "INFRACOST": address})


def terraform(client: dagger.Client, instance_type: str) -> dagger.Directory:
    main_tf = f'resource "aws_instance" "web" {{\n  instance_type = "{instance_type}"\n}}\n'
    return client.directory().with_new_file("main.tf", main_tf)


async def test_the_cost_stage_runs_infracost_from_the_infracost_image_on_base_and_head(
    dagger_client: dagger.Client, images: ImageCatalog, tmp_path: Path
) -> None:
    with_stand_in = await stand_in_images(dagger_client, images, tmp_path)
    outcome = await pr_stages.cost_diff(
        with_stand_in,
        ci_source(dagger_client),
        terraform(dagger_client, "m5.large"),
        terraform(dagger_client, "m5.xlarge"),
        dagger_client.set_secret("infracost", KEY),
    )
    base = json.loads((STAND_IN / "breakdown-base.json").read_text())
    head = json.loads((STAND_IN / "diff-head.json").read_text())
    assert outcome.line == headline(cost_diff(base, head))
    assert outcome.markdown == render_section(cost_diff(base, head))
    assert outcome.stage("cost").verdict is Verdict.PASSED


async def test_a_pull_request_that_leaves_terraform_alone_is_not_estimated(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    same = terraform(dagger_client, "m5.large")
    outcome = await pr_stages.cost_diff(
        images, ci_source(dagger_client), same, terraform(dagger_client, "m5.large"),
        dagger_client.set_secret("infracost-2", KEY),
    )  # fmt: skip
    assert outcome.line == "skipped: the pull request does not change terraform/"
    assert outcome.stage("cost").verdict is Verdict.SKIPPED


async def test_a_pull_request_gets_coverage_cost_and_one_comment_holding_both(
    dagger_client: dagger.Client, images: ImageCatalog, tmp_path: Path
) -> None:
    with_stand_in = await stand_in_images(dagger_client, images, tmp_path)
    github = GitHubIssues("acme/shipyard", "ghs_engineToken")
    report = dagger_client.directory().with_new_file("coverage.xml", COVERAGE).file("coverage.xml")
    with (
        serve(codecov, host="0.0.0.0", advertised=HOST) as codecov_server,
        serve(github, host="0.0.0.0", advertised=HOST) as github_server,
    ):
        inputs = pr_stages.PullRequestInputs(
            git_sha=SHA, repository="acme/shipyard", number=7, base_sha="b" * 40,
            branch="feature/cost", run_url="https://ci/runs/1", codecov_url=codecov_server.url,
            github_api_url=github_server.url,
            codecov_token=dagger_client.set_secret("codecov-3", TOKEN),
            infracost_api_key=dagger_client.set_secret("infracost-3", KEY),
            github_token=dagger_client.set_secret("github-3", "ghs_engineToken"),
        )  # fmt: skip
        stages = await pr_stages.pull_request_stages(
            with_stand_in, ci_source(dagger_client), inputs, lock(dagger_client), report,
            terraform(dagger_client, "m5.xlarge"), base=terraform(dagger_client, "m5.large"),
        )  # fmt: skip
        checks = [StageResult("scan", Verdict.FAILED, "blocked: 1 HIGH finding"), *stages]
        comment, outcome = await pr_stages.comment_stage(
            images, ci_source(dagger_client), checks, inputs
        )
    assert [(s.stage, s.verdict) for s in stages] == [
        ("coverage-upload", Verdict.PASSED),
        ("cost", Verdict.PASSED),
    ]
    assert stages[0].summary.startswith("uploaded coverage.xml (91.0 % of lines) → ")
    assert comment.verdict is Verdict.PASSED
    assert outcome.posted
    [only] = github.on(7)
    body = only["body"]
    assert "| scan | ❌ failed | blocked: 1 HIGH finding |" in body
    assert "**Coverage**: 91.0 %" in body
    assert "| ~ | `aws_ecs_service.tiles` | $41.45 | $82.90 | +$41.45 (+100.0 %) |" in body
    assert "[the run](https://ci/runs/1)" in body
    commit = codecov_server.requests[0].json()
    assert (commit["branch"], commit["pullid"]) == ("feature/cost", "7")


async def test_a_base_checkout_with_local_terraform_state_still_compares_equal(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    head = terraform(dagger_client, "m5.large")
    checkout = (
        terraform(dagger_client, "m5.large")
        .with_new_file(".terraform.lock.hcl", "# providers\n")
        .with_new_file(".terraform/providers/marker", "cache\n")
        .with_new_file("terraform.tfstate", "{}\n")
    )
    assert await pr_stages.terraform_changed(checkout, head)
    assert not await pr_stages.terraform_changed(pr_stages.comparable(checkout), head)
