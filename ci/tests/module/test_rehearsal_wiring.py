import pytest
from shipyard.decide import topology
from shipyard.decide.pipeline_flow import (
    Flow,
    StageResult,
    Verdict,
    deploy_details,
    notify_message,
    smoke_headline,
)
from shipyard.decide.topology import TopologyError, parse_faults
from shipyard.tools.listener import ListenerError, Route, parse_route, route_for


def test_faults_land_on_an_environment_and_role_and_map_to_the_simulator() -> None:
    faults = parse_faults(["pull-error", "smoke-failure", "production:tiles=crash", "webhook-down"])
    assert faults.services == {
        ("staging", "tiles"): "pull-error",
        ("staging", "timeseries"): "smoke-failure",
        ("production", "tiles"): "crash",
    }
    assert faults.run == {"webhook-down"}
    assert faults.simulator_args() == [
        "--fault",
        "gridserve-production-tiles=crash",
        "--fault",
        "gridserve-staging-tiles=pull_error",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tiles=smoke-failure", "write --fault smoke-failure"),
        ("pull_error", "unknown fault 'pull_error'"),
        ("qa:tiles=crash", "no environment 'qa'"),
        ("staging:web=crash", "no service role 'web'"),
        ("tiles=webhook-down", "breaks the run, not a service"),
    ],
)
def test_a_wrong_fault_is_refused_with_the_fix(spec: str, message: str) -> None:
    with pytest.raises(TopologyError, match=message):
        parse_faults([spec])


def test_one_fault_per_service() -> None:
    with pytest.raises(TopologyError, match="already has a fault"):
        parse_faults(["crash", "tiles=unhealthy"])


def test_listener_routes_like_the_alb_rules() -> None:
    routes = [parse_route(spec) for spec in _pairs(topology.listener_routes("production"))]
    assert route_for("/tiles/test-collection/10/512/512.png", routes) == Route(
        "/tiles/*", "http://production-tiles:8080"
    )
    assert route_for("/api/timeseries?lat=1&lon=2", routes) == Route(
        "/api/*", "http://production-timeseries:8080"
    )
    assert route_for("/health", routes) == Route("/health", "http://production-tiles:8080")
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
    message = notify_message(Flow.RELEASE, stages, "staging", "abc1234")
    assert message.stage == "deploy"
    assert message.verdict == "failed"
    assert message.summary == (
        "service tiles failed: circuit breaker / more (test: passed; deploy: failed)"
    )
    assert message.on_success


def test_a_green_pull_request_is_not_announced() -> None:
    stages = [StageResult("test", Verdict.PASSED, "ok")]
    message = notify_message(Flow.CHECKS, stages, "", "abc1234")
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
