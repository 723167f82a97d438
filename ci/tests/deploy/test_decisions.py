"""The pure decisions of the deploy engine, tested on plain data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from shipyard.tools.deploy import Credentials, DeployConfig, DeployError
from shipyard.tools.deploy.aws import describe_error
from shipyard.tools.deploy.config import parse_container_assignments, parse_image
from shipyard.tools.deploy.dossier import log_stream_name, stopped_task
from shipyard.tools.deploy.engine import previous_revision, redacting, started_deployment
from shipyard.tools.deploy.plan import READ_ONLY_KEYS, registration_input, select_container
from shipyard.tools.deploy.report import DeployReport, RestorePoint, load_restore_points
from shipyard.tools.deploy.verify import circuit_breaker_finding, deployment_in_progress
from shipyard.tools.deploy.watch import Expectation, Phase, judge, new_events, watch

OLD, NEW, OTHER = "arn:td/app:1", "arn:td/app:2", "arn:td/app:3"
EXPECT = Expectation("ecs-svc/ours", NEW, OLD, frozenset({"ecs-svc/old"}))


def deployment(
    id_: str, status: str, state: str, td: str, running: int = 2, desired: int = 2, reason: str = ""
) -> dict[str, Any]:
    return {
        "id": id_,
        "status": status,
        "rolloutState": state,
        "taskDefinition": td,
        "runningCount": running,
        "desiredCount": desired,
        "rolloutStateReason": reason,
    }


def service(*deployments: dict[str, Any], running: int = 2) -> dict[str, Any]:
    return {
        "serviceName": "tiles",
        "deployments": list(deployments),
        "runningCount": running,
        "desiredCount": 2,
        "events": [],
    }


def test_success_needs_our_deployment_primary_completed_and_fully_running() -> None:
    done = service(deployment("ecs-svc/ours", "PRIMARY", "COMPLETED", NEW))
    assert judge(done, EXPECT).phase is Phase.SUCCEEDED


@pytest.mark.parametrize(
    "snapshot",
    [
        service(
            deployment("ecs-svc/ours", "PRIMARY", "IN_PROGRESS", NEW, running=1),
            deployment("ecs-svc/old", "ACTIVE", "COMPLETED", OLD),
        ),
        service(deployment("ecs-svc/ours", "PRIMARY", "COMPLETED", NEW, running=1), running=1),
        service(deployment("ecs-svc/ours", "PRIMARY", "COMPLETED", NEW), running=3),
    ],
)
def test_not_yet_done_is_in_progress(snapshot: dict[str, Any]) -> None:
    assert judge(snapshot, EXPECT).phase is Phase.IN_PROGRESS


def test_circuit_breaker_rollback_is_a_failure_although_the_service_is_stable() -> None:
    # What the services_stable waiter calls success: one deployment, running == desired.
    rolled_back = service(
        deployment("ecs-svc/rb", "PRIMARY", "IN_PROGRESS", OLD),
        deployment(
            "ecs-svc/ours",
            "ACTIVE",
            "FAILED",
            NEW,
            running=0,
            reason="ECS deployment circuit breaker: tasks failed to start.",
        ),
    )
    verdict = judge(rolled_back, EXPECT)
    assert verdict.phase is Phase.FAILED
    assert "circuit breaker rolled the service back to arn:td/app:1" in verdict.reason
    settled = service(deployment("ecs-svc/rb", "PRIMARY", "COMPLETED", OLD))
    assert judge(settled, EXPECT).phase is Phase.FAILED


def test_failed_without_rollback_is_a_failure() -> None:
    failed = service(
        deployment(
            "ecs-svc/ours", "PRIMARY", "FAILED", NEW, running=0, reason="tasks failed to start"
        )
    )
    assert judge(failed, EXPECT).reason.endswith("failed: tasks failed to start")


def test_foreign_deployment_is_a_conflict() -> None:
    foreign = service(
        deployment("ecs-svc/theirs", "PRIMARY", "IN_PROGRESS", OTHER),
        deployment("ecs-svc/ours", "ACTIVE", "IN_PROGRESS", NEW),
    )
    verdict = judge(foreign, EXPECT)
    assert verdict.phase is Phase.CONFLICT
    assert "ecs-svc/theirs" in verdict.reason
    assert OTHER in verdict.reason


def test_foreign_deployment_to_the_old_definition_is_still_a_conflict() -> None:
    foreign = service(
        deployment("ecs-svc/theirs", "PRIMARY", "IN_PROGRESS", OLD),
        deployment("ecs-svc/ours", "ACTIVE", "IN_PROGRESS", NEW),
    )
    assert judge(foreign, EXPECT).phase is Phase.CONFLICT


def test_vanished_deployment_is_a_failure() -> None:
    gone = service(deployment("ecs-svc/old", "PRIMARY", "COMPLETED", OLD))
    assert judge(gone, EXPECT).phase is Phase.FAILED


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_watch_reports_within_one_poll_of_the_change() -> None:
    fake = FakeTime()
    in_progress = service(deployment("ecs-svc/ours", "PRIMARY", "IN_PROGRESS", NEW, running=0))
    failed = service(deployment("ecs-svc/ours", "PRIMARY", "FAILED", NEW, running=0))

    def describe() -> dict[str, Any]:
        return failed if fake.now >= 42.0 else in_progress

    lines: list[str] = []
    result = watch(
        describe,
        EXPECT,
        name="tiles",
        timeout=600,
        poll_interval=5,
        log=lines.append,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert result.verdict.phase is Phase.FAILED
    assert 42.0 <= result.seconds <= 47.0
    assert len(lines) == 2, "a status line only when something changed"


def test_watch_times_out_exactly() -> None:
    fake = FakeTime()
    stuck = service(deployment("ecs-svc/ours", "PRIMARY", "IN_PROGRESS", NEW, running=0))
    result = watch(
        lambda: stuck,
        EXPECT,
        name="tiles",
        timeout=12,
        poll_interval=5,
        log=lambda _: None,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert result.verdict.phase is Phase.TIMED_OUT
    assert result.seconds == 12.0


def test_new_events_are_printed_once_oldest_first() -> None:
    seen: set[str] = set()
    snapshot = {"events": [{"id": "2", "message": "second"}, {"id": "1", "message": "first"}]}
    assert new_events(snapshot, seen) == ["first", "second"]
    assert new_events(snapshot, seen) == []


LIVE_TASK_DEFINITION: dict[str, Any] = {
    "taskDefinitionArn": OLD,
    "revision": 1,
    "status": "ACTIVE",
    "family": "scidata-staging-tiles",
    "requiresAttributes": [{"name": "x"}],
    "compatibilities": ["FARGATE"],
    "registeredAt": "2026-01-01",
    "registeredBy": "someone",
    "cpu": "256",
    "containerDefinitions": [
        {"name": "tiles", "image": "repo:v1", "essential": True},
        {"name": "sidecar", "image": "envoy:1", "essential": False},
    ],
}


def test_registration_swaps_only_the_named_container_and_strips_read_only_keys() -> None:
    tags = [{"key": "project", "value": "scidata"}]
    rendered = registration_input(LIVE_TASK_DEFINITION, tags, "repo@sha256:" + "a" * 64, "tiles")
    assert not set(READ_ONLY_KEYS) & set(rendered)
    assert rendered["tags"] == tags
    images = {c["name"]: c["image"] for c in rendered["containerDefinitions"]}
    assert images == {"tiles": "repo@sha256:" + "a" * 64, "sidecar": "envoy:1"}
    assert LIVE_TASK_DEFINITION["containerDefinitions"][0]["image"] == "repo:v1", "input intact"


def test_container_choice_errors_name_the_service_the_container_and_the_fix() -> None:
    with pytest.raises(DeployError) as ambiguous:
        select_container(LIVE_TASK_DEFINITION, None, "tiles")
    assert "service tiles: task definition " + OLD in str(ambiguous.value)
    assert "has containers ['tiles', 'sidecar'] and none was named" in str(ambiguous.value)
    assert "--container tiles=CONTAINER" in str(ambiguous.value)
    with pytest.raises(DeployError) as missing:
        select_container(LIVE_TASK_DEFINITION, "app", "tiles")
    assert "no container named 'app' (it has ['tiles', 'sidecar'])" in str(missing.value)
    assert "--container tiles=NAME" in str(missing.value)
    assert select_container(LIVE_TASK_DEFINITION, "sidecar", "tiles") == "sidecar"
    assert select_container(LIVE_TASK_DEFINITION, "tiles", "tiles") == "tiles"
    only_one = {**LIVE_TASK_DEFINITION, "containerDefinitions": [{"name": "tiles"}]}
    assert select_container(only_one, None, "tiles") == "tiles"


def test_container_names_are_per_deployed_service() -> None:
    config = DeployConfig(cluster="c", containers={"tiles": "tiles"})
    assert (config.container_for("tiles"), config.container_for("timeseries")) == ("tiles", None)
    with pytest.raises(DeployError, match="named for tilez, which is not among the services"):
        DeployConfig(cluster="c", containers={"tilez": "tiles"})
    with pytest.raises(DeployError, match=r"tiles='my app' are not ECS container names"):
        DeployConfig(cluster="c", containers={"tiles": "my app"})
    assert parse_container_assignments(["tiles=tiles", "timeseries=ts"]) == {
        "tiles": "tiles",
        "timeseries": "ts",
    }
    with pytest.raises(DeployError, match=r"--container 'app' is not SERVICE=CONTAINER"):
        parse_container_assignments(["app"])
    with pytest.raises(DeployError, match="names service tiles twice"):
        parse_container_assignments(["tiles=a", "tiles=b"])


def test_image_references() -> None:
    digest = "sha256:" + "b" * 64
    ecr = parse_image(f"123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/grid/serve@{digest}")
    assert (ecr.repository, ecr.digest, ecr.tag, ecr.ecr_account) == (
        "grid/serve",
        digest,
        None,
        "123456789012",
    )
    local = parse_image("localhost:5000/gridserve:v2")
    assert (local.registry, local.repository, local.tag, local.ecr_account) == (
        "localhost:5000",
        "gridserve",
        "v2",
        None,
    )
    with pytest.raises(DeployError, match="digest must be sha256"):
        parse_image("repo@sha256:abc")
    with pytest.raises(DeployError, match="not an image reference"):
        parse_image("two words")


def test_config_validation_names_the_input() -> None:
    with pytest.raises(DeployError, match="repeat a name"):
        DeployConfig(cluster="c", image="repo:v1", services=("tiles", "tiles"))
    with pytest.raises(DeployError, match="poll interval 0 is not a positive finite number"):
        DeployConfig(cluster="c", image="repo:v1", poll_interval_seconds=0)
    with pytest.raises(DeployError, match="cluster is empty"):
        DeployConfig(cluster=" ", image="repo:v1")
    assert DeployConfig(cluster="c", image="repo:v1").services == ("tiles", "timeseries")


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("poll_interval_seconds", float("nan"), "poll interval nan"),
        ("timeout_seconds", float("inf"), "timeout inf"),
        ("rollback_timeout_seconds", float("-inf"), "rollback timeout -inf"),
        ("grace_seconds", -1.0, "grace -1.0"),
    ],
)
def test_durations_must_be_finite_and_positive(setting: str, value: float, named: str) -> None:
    with pytest.raises(DeployError, match=f"^{named} is not a positive finite number of seconds"):
        DeployConfig(cluster="c", image="repo:v1", **{setting: value})


@pytest.mark.parametrize("region", ["ap southeast 2", "AP-SOUTHEAST-2", "sydney", "ap-southeast-"])
def test_a_malformed_region_is_named(region: str) -> None:
    with pytest.raises(DeployError, match="is not an AWS region name; pass one like"):
        DeployConfig(cluster="c", image="repo:v1", region=region)


@pytest.mark.parametrize(
    "region", ["ap-southeast-2", "us-gov-west-1", "cn-north-1", "il-central-1"]
)
def test_real_region_names_pass(region: str) -> None:
    assert DeployConfig(cluster="c", image="repo:v1", region=region).region == region


def test_credentials_and_redaction() -> None:
    credentials = Credentials("AKIAEXAMPLEKEY123456", "s3cr3t", "t0ken")
    shown = repr(DeployConfig(cluster="c", image="repo:v1", credentials=credentials))
    assert "s3cr3t" not in shown
    assert "t0ken" not in shown
    assert "AKIAEXAMPLEKEY123456" not in shown
    lines: list[str] = []
    redacting(lines.append, credentials.secrets())("leaked s3cr3t and t0ken")
    assert lines == ["leaked *** and ***"]


def test_aws_errors_become_messages_with_a_fix() -> None:
    def client_error(code: str) -> botocore.exceptions.ClientError:
        return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")

    assert "terraform output" in str(
        describe_error(client_error("ClusterNotFoundException"), "cluster x")
    )
    assert "raise max_attempts" in str(describe_error(client_error("ThrottlingException"), "s"))
    assert "AWS_ACCESS_KEY_ID" in str(describe_error(botocore.exceptions.NoCredentialsError(), "s"))
    assert "grant the deploy role" in str(describe_error(client_error("AccessDenied"), "s"))


def test_previous_revision_picks_the_highest_lower_revision_of_the_family() -> None:
    arns = [
        "arn:aws:ecs:r:1:task-definition/app:1",
        "arn:aws:ecs:r:1:task-definition/app:3",
        "arn:aws:ecs:r:1:task-definition/app:10",
        "arn:aws:ecs:r:1:task-definition/api:9",
    ]
    current = "arn:aws:ecs:r:1:task-definition/app:10"
    assert previous_revision(current, arns) == "arn:aws:ecs:r:1:task-definition/app:3"
    assert previous_revision("arn:aws:ecs:r:1:task-definition/app:1", arns) is None


def test_started_deployment_refuses_a_primary_on_another_definition() -> None:
    with pytest.raises(DeployError, match="another deploy may be running"):
        started_deployment(service(deployment("d", "PRIMARY", "IN_PROGRESS", OTHER)), NEW)


def test_in_progress_and_circuit_breaker_findings() -> None:
    steady = service(deployment("d", "PRIMARY", "COMPLETED", OLD))
    assert deployment_in_progress(steady) is None
    busy = service(
        deployment("d", "PRIMARY", "IN_PROGRESS", NEW), deployment("e", "ACTIVE", "COMPLETED", OLD)
    )
    assert "2 deployments" in (deployment_in_progress(busy) or "")
    finding = circuit_breaker_finding("tiles", steady)
    assert finding is not None
    assert not finding.blocking
    steady["deploymentConfiguration"] = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}
    }
    assert circuit_breaker_finding("tiles", steady) is None


def test_dossier_pieces() -> None:
    assert log_stream_name({"awslogs-stream-prefix": "tiles"}, "app", "abc") == "tiles/app/abc"
    assert log_stream_name({}, "app", "abc") is None
    task = stopped_task(
        {
            "taskArn": "arn:task/c/abc",
            "stoppedReason": "Essential container in task exited",
            "containers": [{"name": "app", "exitCode": 1}],
        }
    )
    assert task.containers[0].exit_code == 1


def test_report_round_trip_and_version_check(tmp_path: Path) -> None:
    report = DeployReport(
        "deploy",
        "c",
        "r",
        "img",
        "t0",
        [RestorePoint("tiles", OLD, "ecs-svc/old")],
        verdict="succeeded",
    )
    json_path, markdown_path = report.write(tmp_path)
    assert load_restore_points(json_path) == report.restore_points
    assert "Restore points: tiles → `app:1`" in markdown_path.read_text()
    json_path.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(DeployError, match="schema_version 99"):
        load_restore_points(json_path)
    with pytest.raises(DeployError, match="unreadable"):
        load_restore_points(tmp_path / "missing.json")


def test_without_circuit_breaker_a_crash_loop_fails_at_the_breakers_threshold() -> None:
    crashing = service(
        deployment("ecs-svc/ours", "PRIMARY", "IN_PROGRESS", NEW, running=0),
        deployment("ecs-svc/old", "ACTIVE", "COMPLETED", OLD),
    )
    crashing["deployments"][0]["failedTasks"] = 2
    assert judge(crashing, EXPECT).phase is Phase.IN_PROGRESS
    crashing["deployments"][0]["failedTasks"] = 3
    verdict = judge(crashing, EXPECT)
    assert verdict.phase is Phase.FAILED
    assert "3 tasks failed" in verdict.reason
    crashing["deploymentConfiguration"] = {"deploymentCircuitBreaker": {"enable": True}}
    assert judge(crashing, EXPECT).phase is Phase.IN_PROGRESS, "then ECS decides"


def test_an_image_is_needed_for_everything_but_rollback() -> None:
    config = DeployConfig(cluster="c")
    with pytest.raises(DeployError, match="no image given; pass the image reference"):
        config.require_image()
    assert DeployConfig(cluster="c", image="repo:v1").require_image().tag == "v1"


def test_restore_tags_round_trip_and_stay_within_ecs_tag_rules() -> None:
    from shipyard.tools.deploy.markers import RunIdentity, parse_marker, restore_tags

    run = RunIdentity("20261204T140000Z-abc123", "2026-12-04T14:00:00+00:00", "repo:v2 (beta)")
    tags = restore_tags(run, "arn:aws:ecs:ap-southeast-2:1:task-definition/app:1", "ecs-svc/1")

    marker = parse_marker("arn:aws:ecs:ap-southeast-2:1:service/c/tiles", tags)
    assert marker is not None
    assert (marker.service, marker.run_id, marker.in_flight) == ("tiles", run.run_id, True)
    assert marker.restore_task_definition == "arn:aws:ecs:ap-southeast-2:1:task-definition/app:1"
    assert marker.restore_deployment_id == "ecs-svc/1"
    assert marker.image == "repo:v2 _beta_", "ECS refuses ( and ) in tag values"
    assert all(len(t["value"]) <= 256 for t in tags)
    assert parse_marker("arn:x/tiles", [{"key": "project", "value": "scidata"}]) is None


def test_the_last_interrupted_run_is_the_latest_started_one_still_in_flight() -> None:
    from shipyard.tools.deploy.markers import Marker, last_interrupted_run

    def marker(service: str, run: str, started: str, in_flight: bool = True) -> Marker:
        return Marker(
            service, f"arn/{service}", run, started, "img", f"td/{service}:1", None, in_flight
        )

    older = marker("tiles", "r1", "2026-12-01T00:00:00+00:00")
    newer = [
        marker("timeseries", "r2", "2026-12-02T00:00:00+00:00"),
        marker("tiles", "r2", "2026-12-02T00:00:00+00:00"),
    ]
    finished = marker("api", "r3", "2026-12-03T00:00:00+00:00", in_flight=False)

    assert last_interrupted_run([older, *newer, finished]) == sorted(newer, key=lambda m: m.service)
    assert last_interrupted_run([finished]) == []


def test_a_report_is_bound_to_its_cluster_region_account_and_families() -> None:
    from shipyard.tools.deploy.report import RecordedRun, binding_problems

    point = RestorePoint(
        "tiles", "arn:aws:ecs:ap-southeast-2:111111111111:task-definition/staging-tiles:4", None
    )
    recorded = RecordedRun("staging", "ap-southeast-2", "111111111111", [point])
    here = {"tiles": "arn:aws:ecs:ap-southeast-2:111111111111:task-definition/staging-tiles:7"}

    assert (
        binding_problems(
            recorded,
            cluster="staging",
            region="ap-southeast-2",
            account="111111111111",
            current=here,
        )
        == []
    )
    problems = binding_problems(
        recorded,
        cluster="scidata",
        region="ap-southeast-2",
        account="222222222222",
        current={
            "tiles": "arn:aws:ecs:ap-southeast-2:222222222222:task-definition/scidata-tiles:2"
        },
    )
    assert problems == [
        "it was made on cluster staging, not scidata",
        "it was made in account 111111111111, not 222222222222",
        f"service tiles's restore point {point.task_definition} is not of the family "
        "scidata-tiles in ap-southeast-2/222222222222 that the service runs",
    ]


def test_a_second_signal_cuts_the_grace_and_the_exit_code_names_the_first() -> None:
    import signal

    from shipyard.tools.deploy.interrupt import LAST_WORDS, Interruption

    now = [100.0]
    interruption = Interruption(grace=7.0, clock=lambda: now[0])
    assert not interruption.requested
    assert interruption.deadline() == float("inf")

    interruption.note(signal.SIGINT)
    assert interruption.deadline() == 107.0
    now[0] = 101.0
    interruption.note(signal.SIGTERM)
    assert interruption.deadline() == 101.0 + LAST_WORDS
    assert (interruption.signal_name, interruption.exit_code()) == ("SIGINT", 130)


def test_foreign_deployments_and_settled_services() -> None:
    from shipyard.tools.deploy.engine import foreign_deployments, settled
    from shipyard.tools.deploy.report import RollbackOutcome, ServiceOutcome

    snapshot = service(
        deployment("ecs-svc/old", "PRIMARY", "COMPLETED", OLD),
        deployment("ecs-svc/other", "ACTIVE", "IN_PROGRESS", OTHER),
    )
    assert [d["id"] for d in foreign_deployments(snapshot, frozenset({"ecs-svc/old"}))] == [
        "ecs-svc/other"
    ]

    rolled = ServiceOutcome("tiles", OLD, None, NEW, verdict="interrupted")
    assert not settled(rolled)
    rolled.rollback = RollbackOutcome(OLD, verdict="in_progress")
    assert not settled(rolled), "still settling: the marker must stay"
    rolled.rollback.verdict = "succeeded"
    assert settled(rolled)
    assert settled(ServiceOutcome("tiles", OLD, None, NEW, verdict="succeeded"))
    assert settled(ServiceOutcome("tiles", OLD, None, verdict="not_started"))
    assert settled(ServiceOutcome("tiles", OLD, None, verdict="failed")), "failed before a change"


def test_throttling_and_5xx_are_transient_other_refusals_are_not() -> None:
    from shipyard.tools.deploy.aws import transient

    def answer(code: str, status: int) -> botocore.exceptions.ClientError:
        return botocore.exceptions.ClientError(
            {
                "Error": {"Code": code, "Message": "m"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "UpdateService",
        )

    assert transient(answer("ThrottlingException", 400))
    assert transient(answer("ServerException", 500))
    assert transient(answer("ServiceUnavailableException", 503))
    assert not transient(answer("InvalidParameterException", 400))
    assert not transient(answer("AccessDeniedException", 403))
    assert describe_error(answer("ThrottlingException", 400), "x").transient


def test_credentials_from_the_chain_are_hidden_but_not_a_short_placeholder() -> None:
    from shipyard.tools.deploy.aws import boto3_session, chain_secrets

    real = boto3_session(
        "ap-southeast-2",
        aws_access_key_id="AKIAREALLOOKING00001",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    placeholder = boto3_session(
        "ap-southeast-2", aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal"
    )

    assert chain_secrets(real) == (
        "AKIAREALLOOKING00001",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    assert chain_secrets(placeholder) == ()
