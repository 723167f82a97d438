"""The ECS deploy engine: plan, verify, deploy, rollback. Plain Python, boto3 at the edge.

API (what the Dagger module wraps)::

    from shipyard.tools.deploy import DeployConfig, Credentials, plan, verify, deploy, rollback

    config = DeployConfig(
        cluster="scidata",
        image="123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/gridserve@sha256:...",
        services=("tiles", "timeseries"),   # deployed in this order, one after the other
        # Per service, the container whose image is replaced (terraform output container_names);
        # a service left out uses its task definition's only container.
        containers={"tiles": "tiles", "timeseries": "timeseries"},
        region="ap-southeast-2",
        credentials=None,      # None: boto3 chain, else Credentials(key, secret, token)
        endpoint_url=None,                  # e.g. the rehearsal front
        timeout_seconds=900, poll_interval_seconds=5, force=False,
        grace_seconds=7, retry_mode="standard",   # or "adaptive"
    )
    plan(config) -> Plan                    # .render(): unified diff per service; changes nothing
    verify(config) -> VerifyResult          # .ok, .findings (thing, problem, fix), .render()
    deploy(config, log=print, journal=Journal(dir), interruption=None) -> DeployReport
    rollback(config, log=print, report_path=None) -> DeployReport
    report.write(directory) -> (json_path, markdown_path)

`deploy` runs verify first and raises `DeployError` if it blocks (nothing changed). Then it
records a restore point per service, in AWS (tags on the service, with the run id and an
in-flight marker; see `markers`) and in the journal, and per service in order checks that
nobody else deployed to it since, registers the new task
definition, updates the service with exactly that ARN and watches its deployment with its own
poll loop, logging progress lines through `log`. Success is: our deployment PRIMARY,
rolloutState COMPLETED, running == desired, on our ARN. A failure (circuit breaker, timeout,
API error) collects a dossier (events, stopped tasks, exit codes, log tail) and rolls every
touched service back to its restore point, watched the same way. A deployment someone else
started mid-flight stops the run with verdict "conflict". Task definitions are never
deregistered. The marker is cleared once every service is on a known task definition.

A signal noted by an `Interruption` (the CLI installs one for SIGINT/SIGTERM) stops the
waiting, sends every touched service back to its restore point, watches them for the grace
time and returns a report with verdict "interrupted". `rollback` without a report returns the
services (of `config.services`) that the last run marked in flight to the restore points in
their tags (else each service to its previous revision); with a report, it first checks that
the report was made on this cluster, region, account and task-definition families. Throttling
and 5xx answers are retried by botocore, then by the engine each poll interval. Every
message of `DeployError` names the thing and the fix; credentials, explicit or from boto3's
chain, never appear in logs, errors, reprs, journals or reports.

CLI: `python -m shipyard.tools.deploy {plan,verify,deploy,rollback} --help`.
"""

from shipyard.tools.deploy.config import Credentials, DeployConfig
from shipyard.tools.deploy.engine import deploy, rollback
from shipyard.tools.deploy.errors import DeployError
from shipyard.tools.deploy.plan import Plan, plan
from shipyard.tools.deploy.report import DeployReport
from shipyard.tools.deploy.verify import VerifyResult, verify

__all__ = [
    "Credentials",
    "DeployConfig",
    "DeployError",
    "DeployReport",
    "Plan",
    "VerifyResult",
    "deploy",
    "plan",
    "rollback",
    "verify",
]
