"""`python -m shipyard.tools.rehearsal` as a real process in front of moto's server."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from shipyard.tools.rehearsal.__main__ import main as rehearsal_main
from shipyard.tools.rehearsal.front import moto_session
from shipyard.tools.rehearsal.local import FrontProcess, front_process

_clusters = itertools.count()


@pytest.fixture
def front(moto_url: str) -> Iterator[FrontProcess]:
    arguments = ["--fault", "timeseries=crash", "--time-scale", "40"]
    arguments += ["--seed", f"front-test-{next(_clusters)}", "--push", "v2"]
    with front_process(moto_url, *arguments) as running:
        yield running


def clients(url: str) -> tuple[Any, Any, Any]:
    session = moto_session("ap-southeast-2")
    return (
        session.client("ecs", endpoint_url=url),
        session.client("ecr", endpoint_url=url),
        session.client("logs", endpoint_url=url),
    )


def test_front_plays_rollouts_and_forwards_the_rest(front: FrontProcess, moto_url: str) -> None:
    url, account, new_image = front.url, front.seeded, front.pushed["v2"]
    cluster = account["cluster"]
    ecs, ecr, _ = clients(url)
    moto_ecs, moto_ecr, moto_logs = clients(moto_url)

    # Forwarded unchanged: ECR and task definitions are moto's own answers.
    assert (
        ecr.describe_images(repositoryName=account["repository"])["imageDetails"]
        == moto_ecr.describe_images(repositoryName=account["repository"])["imageDetails"]
    )
    live = ecs.describe_task_definition(taskDefinition=f"{cluster}-timeseries")["taskDefinition"]
    # Seeded like terraform: the application container is named after its service.
    assert account["containers"] == {"tiles": "tiles", "timeseries": "timeseries"}
    assert [c["name"] for c in live["containerDefinitions"]] == ["timeseries"]
    definitions = [{**c, "image": new_image} for c in live["containerDefinitions"]]
    new_arn = ecs.register_task_definition(
        family=live["family"],
        containerDefinitions=definitions,
    )["taskDefinition"]["taskDefinitionArn"]
    assert moto_ecs.describe_task_definition(taskDefinition=new_arn)["taskDefinition"]

    ecs.update_service(cluster=cluster, service="timeseries", taskDefinition=new_arn)
    states: list[tuple[str, ...]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        service = ecs.describe_services(cluster=cluster, services=["timeseries"])["services"][0]
        states.append(tuple(f"{d['status']}:{d['rolloutState']}" for d in service["deployments"]))
        if service["deployments"][0]["rolloutState"] == "COMPLETED" and len(states) > 2:
            break
        time.sleep(0.1)
    assert ("PRIMARY:IN_PROGRESS", "ACTIVE:COMPLETED") in states
    assert any("ACTIVE:FAILED" in s for s in states), "the circuit breaker failed the deployment"
    assert service["taskDefinition"] == live["taskDefinitionArn"], "rolled back"
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }

    # The crashed tasks' log lines were written to moto's own logs API.
    streams = moto_logs.describe_log_streams(logGroupName=account["log_group"])["logStreams"]
    messages = [
        event["message"]
        for stream in streams
        if stream["logStreamName"].startswith("timeseries/timeseries/")
        for event in moto_logs.get_log_events(
            logGroupName=account["log_group"], logStreamName=stream["logStreamName"]
        )["events"]
    ]
    assert any("rehearsal fault 'crash'" in m for m in messages)
    calls = httpx.get(url + "/_rehearsal/calls").json()
    assert calls["AmazonEC2ContainerServiceV20141113.UpdateService"] == 1


def test_unknown_service_and_cluster_errors_come_from_moto(front: FrontProcess) -> None:
    ecs, _, _ = clients(front.url)
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.describe_services(cluster="no-such-cluster", services=["tiles"])
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_tasks(cluster="no-such-cluster")
    cluster = front.seeded["cluster"]
    missing = ecs.describe_services(cluster=cluster, services=["tilez"])
    assert missing["services"] == []
    assert missing["failures"][0]["reason"] == "MISSING"
    with pytest.raises(ecs.exceptions.ServiceNotFoundException):
        ecs.list_tasks(cluster=cluster, serviceName="tilez")
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.update_service(cluster="no-such-cluster", service="tiles", desiredCount=1)
    with pytest.raises(ecs.exceptions.ServiceNotFoundException):
        ecs.update_service(cluster=cluster, service="tilez", desiredCount=1)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (["--fault", "tiles=explode"], "use one of the kinds"),
        (["--app", "tiles"], "is not KEY=VALUE"),
        (["--time-scale", "0"], "--time-scale must be positive"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(
    argument: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        rehearsal_main(["--moto-url", "http://127.0.0.1:1", "--port", "0", *argument])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
