import pytest
from shipyard.flows import (
    deploy_details,
    listener_routes,
    rehearsal_faults,
    shipyard_message,
    simulator_faults,
    smoke_headline,
)
from shipyard.listener import ListenerError, Route, parse_route, route_for
from shipyard.pipeline_flow import PipelineError, StageResult, Verdict
from shipyard.summary import RunReport


def test_faults_map_to_the_simulator_except_the_smoke_failure() -> None:
    faults = rehearsal_faults(["pull-error", "smoke-failure"])
    assert faults == {"tiles": "pull-error", "timeseries": "smoke-failure"}
    assert simulator_faults(faults) == ["--fault", "tiles=pull_error"]
    assert simulator_faults(rehearsal_faults(["timeseries=slow-rollout"])) == [
        "--fault",
        "timeseries=slow",
    ]


def test_a_smoke_failure_on_tiles_is_refused_with_the_fix() -> None:
    with pytest.raises(PipelineError, match="write --fault smoke-failure"):
        rehearsal_faults(["tiles=smoke-failure"])
    with pytest.raises(PipelineError, match="unknown fault 'pull_error'"):
        rehearsal_faults(["pull_error"])


def test_listener_routes_like_the_alb_rules() -> None:
    routes = [parse_route(spec) for spec in _pairs(listener_routes(8080))]
    assert route_for("/tiles/test-collection/10/512/512.png", routes) == Route(
        "/tiles/*", "http://tiles:8080"
    )
    assert route_for("/api/timeseries?lat=1&lon=2", routes) == Route(
        "/api/*", "http://timeseries:8080"
    )
    assert route_for("/health", routes) == Route("/health", "http://tiles:8080")
    assert route_for("/metrics", routes) == Route("/metrics", "http://tiles:8080")
    assert route_for("/docs", routes) is None


def _pairs(args: list[str]) -> list[str]:
    assert args[::2] == ["--route"] * (len(args) // 2)
    return args[1::2]


def test_a_malformed_route_names_the_fix() -> None:
    with pytest.raises(ListenerError, match="PATH_PATTERN=URL"):
        parse_route("api=timeseries")


def test_deploy_details_keep_verdicts_and_dossiers() -> None:
    report = {
        "verdict": "rolled_back",
        "reason": "tiles: circuit breaker",
        "services": [
            {
                "service": "tiles",
                "verdict": "failed",
                "dossier": {"events": ["stopped"]},
                "rollback": {"verdict": "succeeded"},
            },
            {"service": "timeseries", "verdict": "not_started"},
        ],
    }
    details = deploy_details(report)
    assert details["services"] == {"tiles": "failed", "timeseries": "not_started"}
    assert details["dossier"] == {"tiles": {"events": ["stopped"]}}
    assert details["rollback"] == {"tiles": "succeeded"}
    assert deploy_details(None) == {}


def test_the_notification_leads_with_the_first_failure() -> None:
    stages = [
        StageResult("test", Verdict.PASSED, "12 passed"),
        StageResult("deploy", Verdict.FAILED, "service tiles failed: circuit breaker\nmore"),
        StageResult("smoke", Verdict.SKIPPED, "not smoked"),
    ]
    report = RunReport("pipeline", "release", "staging", "abc1234", stages, {})
    message = shipyard_message(report, ["deploy"])
    assert message.stage == "deploy"
    assert message.verdict == "failed"
    assert message.summary == (
        "service tiles failed: circuit breaker / more (test: passed; deploy: failed)"
    )
    assert message.on_success


def test_a_green_pull_request_is_not_announced() -> None:
    report = RunReport(
        "pipeline", "checks", "", "abc1234", [StageResult("test", Verdict.PASSED, "ok")], {}
    )
    message = shipyard_message(report, [])
    assert (message.stage, message.verdict, message.on_success) == ("checks", "passed", False)
    assert message.environment == "pull request"


def test_the_smoke_headline_names_what_failed() -> None:
    report = (
        "### Smoke http://alb:8080: ❌ fail in 1.04 s\n\n"
        "| check | verdict | attempts | time | detail |\n|---|---|---:|---:|---|\n"
        "| health | ✅ pass | 1 | 0.52 s | health: status 'ok' |\n"
        "| timeseries | ❌ fail | 1 | 0.51 s | timeseries: HTTP 422, expected 200 |\n"
    )
    assert smoke_headline(report) == (
        "Smoke http://alb:8080: ❌ fail in 1.04 s; timeseries: HTTP 422, expected 200"
    )
