"""One test per deploy scenario, against moto's server behind the rehearsal front."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from shipyard.tools.deploy import Credentials, DeployError, deploy, plan, rollback, verify
from shipyard.tools.deploy.report import SCHEMA_VERSION
from shipyard.tools.rehearsal.front import http_probe

from .conftest import Rig, RigFactory


def arn_of(rig: Rig, service: str) -> str:
    return str(rig.service(service)["taskDefinition"])


def image_of(rig: Rig, task_definition: str) -> str:
    described = rig.client("ecs").describe_task_definition(taskDefinition=task_definition)
    return str(described["taskDefinition"]["containerDefinitions"][0]["image"])


def outcome(report: Any, service: str) -> Any:
    return next(o for o in report.services if o.service == service)


def test_healthy_two_service_deploy_is_sequential_and_verified(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig()
    before = {s: arn_of(rig, s) for s in ("tiles", "timeseries")}

    report = deploy(rig.config(), log=rig.log)

    assert report.verdict == "succeeded", report.reason
    for name in ("tiles", "timeseries"):
        result = outcome(report, name)
        live = rig.service(name)
        assert result.old_task_definition == before[name]
        assert result.new_task_definition != before[name]
        assert live["taskDefinition"] == result.new_task_definition
        assert [d["id"] for d in live["deployments"]] == [result.new_deployment_id]
        assert image_of(rig, result.new_task_definition) == rig.new_image
        assert result.rollback is None
    # Strictly sequential: timeseries is registered only after tiles was judged a success.
    tiles_done = rig.lines.index(
        next(line for line in rig.lines if line.startswith("tiles: succeeded"))
    )
    timeseries_registered = rig.lines.index(
        next(line for line in rig.lines if line.startswith("timeseries: registered"))
    )
    assert tiles_done < timeseries_registered
    assert any("running 0/2 pending 2" in line for line in rig.lines), "progress lines"
    assert rig.front.calls["AmazonEC2ContainerServiceV20141113.DeregisterTaskDefinition"] == 0

    json_path, markdown_path = report.write(tmp_path)
    written = json.loads(json_path.read_text())
    assert written["schema_version"] == SCHEMA_VERSION
    assert written["restore_points"][0]["task_definition"] == before["tiles"]
    assert "✅ succeeded" in markdown_path.read_text()


def test_crash_loop_fails_at_once_with_dossier_and_rollback(make_rig: RigFactory) -> None:
    rig = make_rig(faults=("tiles=crash",), services=("tiles",))
    before = arn_of(rig, "tiles")

    report = deploy(rig.config(services=("tiles",)), log=rig.log)

    tiles = outcome(report, "tiles")
    assert report.verdict == "failed"
    assert tiles.verdict == "failed"
    assert "circuit breaker rolled the service back to" in tiles.reason
    # Decided when the circuit breaker tripped, long before the 30 s timeout.
    assert tiles.timings["rollout"] < 15
    stopped = tiles.dossier.stopped_tasks
    assert stopped, "dossier lists the stopped tasks"
    assert {t.stopped_reason for t in stopped} == {"Essential container in task exited"}
    assert {c.exit_code for t in stopped for c in t.containers} == {1}
    assert any("rehearsal fault 'crash'" in line for t in stopped for line in t.log_tail["tiles"])
    assert any("deployment failed: tasks failed to start" in e for e in tiles.dossier.events)
    assert tiles.rollback.verdict == "succeeded"
    assert arn_of(rig, "tiles") == before
    assert "Essential container in task exited" in report.to_markdown()


def test_failing_health_checks(make_rig: RigFactory) -> None:
    rig = make_rig(faults=("tiles=unhealthy",), services=("tiles",))

    report = deploy(rig.config(services=("tiles",)), log=rig.log)

    tiles = outcome(report, "tiles")
    assert tiles.verdict == "failed"
    reasons = {t.stopped_reason for t in tiles.dossier.stopped_tasks}
    assert all(r.startswith("Task failed ELB health checks in (target-group") for r in reasons)
    assert any("is unhealthy in (target-group" in e for e in tiles.dossier.events)
    assert tiles.rollback.verdict == "succeeded"


def test_image_pull_error(make_rig: RigFactory) -> None:
    rig = make_rig(faults=("tiles=pull_error",), services=("tiles",))

    report = deploy(rig.config(services=("tiles",)), log=rig.log)

    tiles = outcome(report, "tiles")
    assert tiles.verdict == "failed"
    for task in tiles.dossier.stopped_tasks:
        assert task.stopped_reason.startswith("CannotPullContainerError")
        assert task.stop_code == "TaskFailedToStart"
        assert task.containers[0].exit_code is None
        assert task.containers[0].reason.startswith("CannotPullContainerError")
    assert tiles.rollback.verdict == "succeeded"


def test_rollout_slower_than_timeout_times_out_and_rolls_back(make_rig: RigFactory) -> None:
    rig = make_rig(faults=("tiles=slow",), services=("tiles",))
    before = arn_of(rig, "tiles")

    report = deploy(rig.config(services=("tiles",), timeout_seconds=2.0), log=rig.log)

    tiles = outcome(report, "tiles")
    assert tiles.verdict == "timed_out"
    assert "after 2 s" in tiles.reason
    assert "raise the timeout" in tiles.reason
    assert 2.0 <= tiles.timings["rollout"] < 6.0
    assert tiles.rollback.verdict == "succeeded"
    assert arn_of(rig, "tiles") == before


def test_second_service_failing_rolls_back_the_first(make_rig: RigFactory) -> None:
    rig = make_rig(faults=("timeseries=crash",))
    before = {s: arn_of(rig, s) for s in ("tiles", "timeseries")}

    report = deploy(rig.config(), log=rig.log)

    tiles, timeseries = outcome(report, "tiles"), outcome(report, "timeseries")
    assert tiles.verdict == "succeeded"
    assert timeseries.verdict == "failed"
    assert tiles.rollback.verdict == "succeeded"
    assert timeseries.rollback.verdict == "succeeded"
    assert report.verdict == "failed"
    assert {s: arn_of(rig, s) for s in before} == before
    rollback_order = [line.split(":")[0] for line in rig.lines if "rollback succeeded" in line]
    assert rollback_order == ["timeseries", "tiles"]


def test_foreign_deployment_mid_flight_stops_the_run(make_rig: RigFactory) -> None:
    rig = make_rig()
    ecs = rig.client("ecs")
    live = ecs.describe_task_definition(taskDefinition=arn_of(rig, "tiles"))["taskDefinition"]
    foreign = ecs.register_task_definition(
        family=live["family"], containerDefinitions=live["containerDefinitions"]
    )["taskDefinition"]["taskDefinitionArn"]
    lines: list[str] = []

    def log_and_interfere(line: str) -> None:
        lines.append(line)
        if line.startswith("tiles: deployment ") and "started" in line:
            ecs.update_service(cluster=rig.account.cluster, service="tiles", taskDefinition=foreign)

    report = deploy(rig.config(), log=log_and_interfere)

    tiles = outcome(report, "tiles")
    assert report.verdict == "conflict"
    assert tiles.verdict == "conflict"
    assert foreign in tiles.reason
    assert "someone else" in tiles.reason
    assert tiles.rollback is None, "the other deploy owns the service now"
    assert outcome(report, "timeseries").verdict == "not_started"
    assert "run rollback with this report" in report.reason


def test_throttling_is_retried(make_rig: RigFactory) -> None:
    rig = make_rig(
        throttle={"DescribeServices": 1, "UpdateService": 1, "RegisterTaskDefinition": 1}
    )

    report = deploy(rig.config(), log=rig.log)

    assert report.verdict == "succeeded", report.reason
    assert rig.front.calls["throttled:DescribeServices"] == 1
    assert rig.front.calls["throttled:UpdateService"] == 1
    assert rig.front.calls["throttled:RegisterTaskDefinition"] == 1


def test_throttling_beyond_the_retries_is_named_with_the_fix(make_rig: RigFactory) -> None:
    rig = make_rig(throttle={"DescribeClusters": 5})

    with pytest.raises(DeployError, match=r"kept throttling calls on cluster .* after every retry"):
        deploy(rig.config(max_attempts=2), log=rig.log)

    assert rig.front.calls["throttled:DescribeClusters"] == 2
    assert rig.mutating_calls() == 0


def test_missing_credentials_are_named_before_any_change(
    make_rig: RigFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rig = make_rig()
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(DeployError, match="AWS credentials: none usable were found") as caught:
        deploy(rig.config(credentials=None), log=rig.log)

    assert "AWS_ACCESS_KEY_ID" in str(caught.value)
    assert rig.mutating_calls() == 0


def test_invalid_credentials_are_rejected_by_a_moto_that_checks_them(make_rig: RigFactory) -> None:
    from shipyard.tools.rehearsal.local import moto_server

    rig = make_rig()
    with moto_server(env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as strict_url:
        config = rig.config(
            endpoint_url=strict_url, credentials=Credentials("AKIAINVALIDINVALID00", "wrong")
        )
        with pytest.raises(
            DeployError, match=r"credentials were rejected \(InvalidClientTokenId\)"
        ):
            deploy(config, log=rig.log)


def test_wrong_cluster(make_rig: RigFactory) -> None:
    rig = make_rig()

    with pytest.raises(DeployError, match="cluster no-such-cluster: not found") as caught:
        deploy(rig.config(cluster="no-such-cluster"), log=rig.log)

    assert "terraform output" in str(caught.value)
    assert rig.mutating_calls() == 0


def test_unknown_service(make_rig: RigFactory) -> None:
    rig = make_rig()

    with pytest.raises(DeployError, match="service tilez: not an ACTIVE service") as caught:
        deploy(rig.config(services=("tiles", "tilez")), log=rig.log)

    assert "check the service name" in str(caught.value)
    assert rig.mutating_calls() == 0


def test_image_absent_from_ecr(make_rig: RigFactory) -> None:
    rig = make_rig()
    absent = rig.account.repository_uri + "@sha256:" + "0" * 64

    with pytest.raises(DeployError, match="not found in ECR repository") as caught:
        deploy(rig.config(image=absent), log=rig.log)

    assert "publish the image first" in str(caught.value)
    assert rig.mutating_calls() == 0


def test_a_container_name_the_task_definition_lacks_stops_everything_before_any_change(
    make_rig: RigFactory,
) -> None:
    # A stale pipeline config: tiles' container named "app", terraform names it "tiles".
    rig = make_rig()
    stale = rig.config(containers={"tiles": "app", "timeseries": "timeseries"})
    before = {s: arn_of(rig, s) for s in ("tiles", "timeseries")}

    with pytest.raises(DeployError) as caught:
        deploy(stale, log=rig.log)
    with pytest.raises(DeployError) as planned:
        plan(stale)

    message = str(caught.value)
    assert "nothing was changed" in message
    assert f"service tiles: task definition {before['tiles']} has no container named 'app'" in (
        message
    )
    assert "(it has ['tiles'])" in message
    assert "service tiles: service tiles" not in message
    assert "--container tiles=NAME" in message
    assert "PIPELINE_CONFIG from `terraform output -json pipeline`" in message
    assert "service timeseries" not in message, "timeseries' container is right"
    assert "has no container named 'app' (it has ['tiles'])" in str(planned.value)
    assert rig.mutating_calls() == 0
    assert {s: arn_of(rig, s) for s in before} == before


LOG_ROUTER: dict[str, Any] = {
    "name": "log-router",
    "image": "aws-for-fluent-bit:2.32.4",
    "essential": False,
    "memory": 64,
    "environment": [{"name": "FLB_LOG_LEVEL", "value": "info"}],
}


def test_with_a_sidecar_an_unnamed_container_is_ambiguous_and_nothing_changes(
    make_rig: RigFactory,
) -> None:
    rig = make_rig(services=("tiles",), sidecars=(LOG_ROUTER,))

    with pytest.raises(DeployError) as caught:
        deploy(rig.config(containers={}), log=rig.log)

    message = str(caught.value)
    assert "has containers ['tiles', 'log-router'] and none was named" in message
    assert "--container tiles=CONTAINER" in message
    assert rig.mutating_calls() == 0


def test_with_a_sidecar_only_the_named_container_gets_the_new_image(make_rig: RigFactory) -> None:
    rig = make_rig(sidecars=(LOG_ROUTER,))
    ecs = rig.client("ecs")
    old = {
        s: ecs.describe_task_definition(taskDefinition=arn_of(rig, s)) for s in rig.account.services
    }

    planned = plan(rig.config())
    report = deploy(rig.config(), log=rig.log)

    assert report.verdict == "succeeded", report.reason
    for service in ("tiles", "timeseries"):
        before = old[service]["taskDefinition"]["containerDefinitions"]
        after = ecs.describe_task_definition(
            taskDefinition=outcome(report, service).new_task_definition
        )["taskDefinition"]["containerDefinitions"]
        assert [c["name"] for c in after] == [service, "log-router"]
        assert after[0]["image"] == rig.new_image
        assert {**after[0], "image": before[0]["image"]} == before[0], "only the image changed"
        assert after[1] == before[1], "the sidecar is untouched"
        assert after[1]["image"] == LOG_ROUTER["image"]
    tiles = planned.services[0]
    assert tiles.container == "tiles"
    changed = [line for line in tiles.diff.splitlines() if line[:1] in "+-"]
    assert changed[2:] == [
        f'-      "image": "{rig.account.image}",',
        f'+      "image": "{rig.new_image}",',
    ]


def test_failed_rollback_is_reported_next_to_the_failure(make_rig: RigFactory) -> None:
    # timeseries' new release crashes; tiles' second deployment (our rollback) crashes too.
    rig = make_rig(faults=("timeseries=crash", "tiles=crash@2"))

    report = deploy(rig.config(), log=rig.log)

    tiles, timeseries = outcome(report, "tiles"), outcome(report, "timeseries")
    assert report.verdict == "failed"
    assert timeseries.verdict == "failed"
    assert timeseries.dossier is not None
    assert tiles.rollback.verdict == "failed"
    assert tiles.rollback.dossier is not None
    assert "ROLLBACK ALSO FAILED for tiles" in report.reason
    assert "service timeseries failed" in report.reason
    markdown = report.to_markdown()
    assert "rollback to `" in markdown
    assert f"Failure dossier of {tiles.rollback.deployment_id}" in markdown


def test_plan_changes_nothing(make_rig: RigFactory) -> None:
    rig = make_rig()
    ecs = rig.client("ecs")
    families_before = ecs.list_task_definitions()["taskDefinitionArns"]
    services_before = {s: arn_of(rig, s) for s in ("tiles", "timeseries")}
    rig.front.calls.clear()

    planned = plan(rig.config())

    assert rig.mutating_calls() == 0
    assert ecs.list_task_definitions()["taskDefinitionArns"] == families_before
    assert {s: arn_of(rig, s) for s in services_before} == services_before
    tiles = planned.services[0]
    assert tiles.service == "tiles"
    assert tiles.container == "tiles"
    changed = [line for line in tiles.diff.splitlines() if line[:1] in "+-"]
    assert changed == [
        f"--- tiles: {services_before['tiles']}",
        "+++ tiles: next revision",
        f'-      "image": "{rig.account.image}",',
        f'+      "image": "{rig.new_image}",',
    ]
    assert tiles.registration["tags"] == [{"key": "project", "value": "scidata"}]
    assert not {
        "taskDefinitionArn",
        "revision",
        "status",
        "compatibilities",
        "requiresAttributes",
    } & set(tiles.registration)
    assert "tiles: next revision" in planned.render()


def test_verify_refuses_a_deployment_in_progress_unless_forced(make_rig: RigFactory) -> None:
    rig = make_rig(faults=("tiles=slow",))
    assert verify(rig.config()).ok
    ecs = rig.client("ecs")
    ecs.update_service(
        cluster=rig.account.cluster,
        service="tiles",
        taskDefinition=arn_of(rig, "tiles"),
        forceNewDeployment=True,
    )
    rig.clock.freeze()

    blocked = verify(rig.config())
    forced = verify(rig.config(force=True))

    assert not blocked.ok
    assert "service tiles: a deployment is already in progress" in blocked.render()
    assert forced.ok
    assert "warning: service tiles" in forced.render()


def test_standalone_rollback_to_report_and_to_previous_revision(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig()
    before = {s: arn_of(rig, s) for s in ("tiles", "timeseries")}
    deployed = deploy(rig.config(), log=rig.log)
    json_path, _ = deployed.write(tmp_path)

    to_report = rollback(rig.config(), log=rig.log, report_path=json_path)

    assert to_report.verdict == "succeeded", to_report.reason
    assert {s: arn_of(rig, s) for s in before} == before
    # The previous revision of :1 does not exist; of the redeployed :2 it is :1.
    deploy(rig.config(services=("tiles",)), log=rig.log)
    redeployed = arn_of(rig, "tiles")
    previous = rollback(rig.config(services=("tiles",)), log=rig.log)
    assert previous.verdict == "succeeded"
    assert arn_of(rig, "tiles") != redeployed
    assert arn_of(rig, "tiles").rsplit(":", 1)[-1] == str(int(redeployed.rsplit(":", 1)[-1]) - 1)
    assert rig.front.calls["AmazonEC2ContainerServiceV20141113.DeregisterTaskDefinition"] == 0


def test_secrets_never_leak(make_rig: RigFactory, tmp_path: Path) -> None:
    canary_key, canary_secret, canary_token = (
        "AKIACANARYCANARY0042",
        "CANARY-secret-0xdeadbeef",
        "CANARY-token-0xfeedface",
    )
    rig = make_rig(faults=("timeseries=crash",))
    credentials = Credentials(canary_key, canary_secret, canary_token)
    config = rig.config(credentials=credentials)

    report = deploy(config, log=rig.log)
    json_path, markdown_path = report.write(tmp_path)
    with pytest.raises(DeployError) as caught:
        deploy(rig.config(credentials=credentials, cluster="nope"), log=rig.log)

    visible = "\n".join(
        [
            *rig.lines,
            json_path.read_text(),
            markdown_path.read_text(),
            repr(config),
            str(config),
            repr(credentials),
            str(caught.value),
            repr(report),
        ]
    )
    for canary in (canary_key, canary_secret, canary_token):
        assert canary not in visible
    assert report.verdict == "failed", "the canary run went through a failure and rollback"


def test_crash_loop_without_circuit_breaker_is_caught_by_our_threshold(
    make_rig: RigFactory,
) -> None:
    rig = make_rig(faults=("tiles=crash",), services=("tiles",), circuit_breaker=False)
    before = arn_of(rig, "tiles")

    report = deploy(rig.config(services=("tiles",)), log=rig.log)

    tiles = outcome(report, "tiles")
    assert tiles.verdict == "failed"
    assert "but it is off" in tiles.reason
    assert tiles.timings["rollout"] < 15
    assert any(
        "warning: service tiles: the deployment circuit breaker" in line for line in rig.lines
    )
    assert tiles.rollback.verdict == "succeeded"
    assert arn_of(rig, "tiles") == before


class _App(http.server.BaseHTTPRequestHandler):
    """A real HTTP app whose /health answer the test switches."""

    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def test_a_real_app_behind_the_service_decides_its_health(make_rig: RigFactory) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _App)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        probe = http_probe(f"http://127.0.0.1:{server.server_port}/health")
        rig = make_rig(services=("tiles",), app_probes={"tiles": probe})
        _App.status = 200
        healthy = deploy(rig.config(services=("tiles",)), log=rig.log)
        _App.status = 503
        failed = deploy(rig.config(services=("tiles",)), log=rig.log)
    finally:
        server.shutdown()
        server.server_close()
    reasons = {t.stopped_reason for t in outcome(failed, "tiles").dossier.stopped_tasks}
    assert healthy.verdict == "succeeded", healthy.reason
    assert failed.verdict == "failed"
    assert all(r.startswith("Task failed ELB health checks") for r in reasons)
    # The app is down whatever the release, so going back cannot heal it either.
    assert outcome(failed, "tiles").rollback.verdict == "failed"


def test_an_unexpected_error_still_rolls_back_what_was_changed(
    make_rig: RigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shipyard.tools.deploy.engine as engine

    rig = make_rig()
    before = arn_of(rig, "tiles")
    real_plan = engine.plan_service

    def plan_breaking_on_timeseries(clients: Any, config: Any, service: str) -> Any:
        if service == "timeseries":
            raise KeyError("containerDefinitions")
        return real_plan(clients, config, service)

    monkeypatch.setattr(engine, "plan_service", plan_breaking_on_timeseries)
    report = deploy(rig.config(), log=rig.log)

    assert report.verdict == "failed"
    assert "unexpected KeyError" in outcome(report, "timeseries").reason
    assert outcome(report, "tiles").rollback.verdict == "succeeded"
    assert arn_of(rig, "tiles") == before
    assert "in-flight marker" not in report.reason, "every service is on a known revision"
    assert all("shipyard:in-flight" not in rig.tags(s) for s in ("tiles", "timeseries"))
