"""`python -m shipyard.tools.deploy {plan,verify,deploy,rollback}`.

Credentials come from boto3's chain (environment, profile, role) only: a secret on a command
line would be visible to every process on the machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shipyard.tools.deploy import DeployConfig, DeployError, deploy, plan, rollback, verify
from shipyard.tools.deploy.config import (
    DEFAULT_REGION,
    DEFAULT_SERVICES,
    RETRY_MODES,
    parse_container_assignments,
)
from shipyard.tools.deploy.interrupt import Interruption
from shipyard.tools.deploy.journal import Journal
from shipyard.tools.deploy.report import DeployReport, load_restore_points


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.tools.deploy",
        description="Plan, verify, deploy or roll back ECS services.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("plan", "show each service's task definition diff; changes nothing"),
        ("verify", "pre-flight checks; changes nothing"),
        ("deploy", "deploy the image service by service"),
        (
            "rollback",
            "return services to a report's restore points, or (without --from-report) to "
            "those an interrupted run left in AWS tags",
        ),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--cluster", required=True)
        sub.add_argument(
            "--service",
            action="append",
            dest="services",
            help=f"repeatable, in deploy order (default {' '.join(DEFAULT_SERVICES)})",
        )
        if name != "rollback":
            sub.add_argument(
                "--image", required=True, help="image reference, preferably repo@sha256:digest"
            )
            sub.add_argument(
                "--container",
                action="append",
                dest="containers",
                default=[],
                metavar="SERVICE=CONTAINER",
                help="the container whose image is replaced in SERVICE's task definition "
                "(repeatable; terraform output container_names); a service not named uses "
                "its task definition's only container",
            )
        _add_run_options(sub, name)
    return parser


def _add_run_options(sub: argparse.ArgumentParser, name: str) -> None:
    """Where to act, how to wait and where to write: the options every command shares."""
    sub.add_argument("--region", default=DEFAULT_REGION)
    sub.add_argument("--endpoint-url", help="AWS endpoint override, e.g. the rehearsal front")
    sub.add_argument("--timeout", type=float, default=900.0, help="seconds per rollout")
    sub.add_argument("--poll-interval", type=float, default=5.0, help="seconds")
    sub.add_argument(
        "--grace",
        type=float,
        default=7.0,
        help="seconds a run stopped by SIGINT/SIGTERM keeps watching its rollbacks before it "
        "writes its report (a second signal cuts it to 1 s)",
    )
    sub.add_argument(
        "--max-attempts",
        type=int,
        default=10,
        help="tries of one AWS call before the engine itself waits a poll interval and tries "
        "again (throttling and 5xx only, within the timeout)",
    )
    sub.add_argument(
        "--retry-mode",
        choices=RETRY_MODES,
        default="standard",
        help="botocore's retry mode for throttling and 5xx answers",
    )
    sub.add_argument(
        "--force", action="store_true", help="go on although a deployment is in progress"
    )
    sub.add_argument("--report-dir", type=Path, default=Path("deploy-report"))
    if name == "rollback":
        sub.add_argument(
            "--from-report",
            type=Path,
            help="deploy-report.json whose restore points to return to (default: the "
            "restore points the last interrupted run left in its services' AWS tags, else "
            "each service's previous revision)",
        )


def _report_services(args: argparse.Namespace) -> tuple[str, ...]:
    """A rollback from a report covers the report's services unless --service says otherwise."""
    report = getattr(args, "from_report", None)
    return tuple(p.service for p in load_restore_points(report)) if report else ()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = DeployConfig(
            cluster=args.cluster,
            image=getattr(args, "image", ""),
            services=tuple(args.services or _report_services(args) or DEFAULT_SERVICES),
            containers=parse_container_assignments(getattr(args, "containers", [])),
            region=args.region,
            endpoint_url=args.endpoint_url,
            timeout_seconds=args.timeout,
            poll_interval_seconds=args.poll_interval,
            grace_seconds=args.grace,
            retry_mode=args.retry_mode,
            max_attempts=args.max_attempts,
            force=args.force,
        )
        if args.command == "plan":
            print(plan(config).render())
            return 0
        if args.command == "verify":
            result = verify(config)
            print(result.render())
            return 0 if result.ok else 1
        return _run(args, config)
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, config: DeployConfig) -> int:
    """Deploy or roll back with signals handled, the journal and report written as it goes."""
    journal = Journal(args.report_dir, args.command)
    interruption = Interruption(config.grace_seconds)

    def log(line: str) -> None:
        print(line, flush=True)

    report: DeployReport
    # The report is written with the handlers still in place: GitHub's SIGTERM may land while
    # it is written (0.5 s after the grace ends), and the default action would lose it.
    with interruption.install():
        if args.command == "deploy":
            report = deploy(config, log=log, journal=journal, interruption=interruption)
        else:
            report = rollback(
                config,
                log=log,
                report_path=args.from_report,
                journal=journal,
                interruption=interruption,
            )
        written = journal.checkpoint(report)
        assert written is not None, "a journal with a directory writes the report"
        print(f"report: {written[0]}")
        print(f"summary: {written[1]}")
        print(f"journal: {journal.path}")
        if not report.ok:
            # The dossier on stderr: stdout is the progress log, and a caller that only sees the
            # failed process (a failed exec in the engine) still reads why and what rolled back.
            print(written[1].read_text(encoding="utf-8"), file=sys.stderr, end="")
    if report.verdict == "interrupted":
        return interruption.exit_code()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
