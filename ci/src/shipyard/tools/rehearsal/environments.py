"""``python3 -m shipyard.tools.rehearsal.environments``: lay out the emulated environments as
terraform would (cluster, services, containers, roles, repository) through the rehearsal front,
and print each one's `terraform output -json pipeline` as one JSON line: {environment: pipeline}.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from shipyard.decide import topology
from shipyard.tools.rehearsal.front import moto_session
from shipyard.tools.rehearsal.seed import ASSUME_ECS_TASKS, seed_account


def seed_environment(endpoint_url: str, environment: str) -> dict[str, Any]:
    """One environment's resources, then its pipeline config (the deploy role included)."""
    config = topology.pipeline_config(environment, "")
    services = tuple(config["service_names"][role] for role in config["deploy_order"])
    seed_account(
        endpoint_url,
        cluster=config["cluster_name"],
        services=services,
        repository=config["cluster_name"],
        region=topology.REGION,
        containers={
            config["service_names"][r]: config["container_names"][r] for r in topology.ROLES
        },
        log_groups={
            config["service_names"][r]: config["log_group_names"][r] for r in topology.ROLES
        },
    )
    iam = moto_session(topology.REGION).client("iam", endpoint_url=endpoint_url)
    role = iam.create_role(
        RoleName=f"{config['cluster_name']}-deploy", AssumeRolePolicyDocument=ASSUME_ECS_TASKS
    )
    config["deploy_role_arn"] = role["Role"]["Arn"]
    return config


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m shipyard.tools.rehearsal.environments")
    parser.add_argument("--endpoint-url", required=True, help="the rehearsal front")
    parser.add_argument("--environment", action="append", choices=topology.ENVIRONMENTS)
    args = parser.parse_args(argv)
    configs = {
        environment: seed_environment(args.endpoint_url, environment)
        for environment in args.environment or topology.ENVIRONMENTS
    }
    print(json.dumps(configs, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
