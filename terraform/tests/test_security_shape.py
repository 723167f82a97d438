"""Platform rules read from the HCL. The proof that they hold is the checkov gate
(test_gates.py); these tests pin the details checkov has no rule for."""

from __future__ import annotations

import json
import re
from typing import Any

TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable

# What the deploy engine calls (ci/src/shipyard/deploy, cross-checked below), and pushing the
# image. Nothing more.
DEPLOY_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
    "ecs:DescribeClusters",
    "ecs:DescribeServices",
    "ecs:ListTagsForResource",
    "ecs:TagResource",
    "ecs:UntagResource",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeTasks",
    "ecs:ListTaskDefinitions",
    "ecs:ListTasks",
    "ecs:RegisterTaskDefinition",
    "ecs:UpdateService",
    "logs:DescribeLogGroups",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "iam:PassRole",
}
# Actions AWS cannot scope to a resource; every other deploy statement names its resources.
UNSCOPABLE = {
    "ecr:GetAuthorizationToken",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTaskDefinitions",
    "ecs:RegisterTaskDefinition",
}
ENGINE_CALL = re.compile(r"clients\.(ecs|ecr|logs)\.(\w+)\(")
ENGINE_PAGINATOR = re.compile(r'clients\.(ecs|ecr|logs)\.get_paginator\(\s*"(\w+)"')


def _ecs_service(tree: TerraformTree) -> dict[str, Any]:
    found: dict[str, Any] = tree.resources(tree.module_dir("ecs-service"))["aws_ecs_service.this"]
    return found


def _statements(tree: TerraformTree, document: str) -> list[dict[str, Any]]:
    data = tree.resources(tree.module_dir("iam"), kind="data")
    statements: list[dict[str, Any]] = data[f"aws_iam_policy_document.{document}"]["statement"]
    return statements


def test_service_rolls_back_through_the_circuit_breaker(tree: TerraformTree) -> None:
    service = _ecs_service(tree)
    assert service["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    assert service["deployment_minimum_healthy_percent"] == 50
    assert service["deployment_maximum_percent"] == 200
    grace = service["health_check_grace_period_seconds"]
    assert grace == "${var.health_check_grace_period_seconds}"


def test_service_leaves_the_task_definition_to_the_pipeline(tree: TerraformTree) -> None:
    (lifecycle,) = _ecs_service(tree)["lifecycle"]
    assert "task_definition" in lifecycle["ignore_changes"]


def test_service_is_private_and_scales_on_cpu(tree: TerraformTree) -> None:
    resources = tree.resources(tree.module_dir("ecs-service"))
    (network,) = resources["aws_ecs_service.this"]["network_configuration"]
    assert network["assign_public_ip"] is False
    policy = resources["aws_appautoscaling_policy.cpu"]
    assert policy["policy_type"] == "TargetTrackingScaling"
    ingress = resources["aws_vpc_security_group_ingress_rule.from_alb"]
    assert ingress["referenced_security_group_id"] == "${var.alb_security_group_id}"
    assert "cidr_ipv4" not in ingress


def test_container_is_hardened_and_told_its_role(tree: TerraformTree) -> None:
    locals_ = tree.blocks(tree.module_dir("ecs-service"), "locals")
    (container,) = locals_["container_definitions"]
    assert container["readonlyRootFilesystem"] is True
    assert container["privileged"] is False
    assert container["user"] == "${var.container_user}"
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["healthCheck"]["command"][:2] == ["CMD", "python3"]
    assert "GRIDSERVE_ROLE = var.app_role" in locals_["environment"]
    health = tree.blocks(tree.module_dir("ecs-service"), "variable")["health_check_path"]
    assert health["default"] == "/health"


def test_container_user_rejects_root(tree: TerraformTree) -> None:
    user = tree.blocks(tree.module_dir("ecs-service"), "variable")["container_user"]
    (validation,) = user["validation"]
    assert "[1-9]" in validation["condition"], "uid 0 must not pass the validation"


def test_deploy_role_may_do_exactly_what_the_deploy_engine_does(tree: TerraformTree) -> None:
    actions = {action for s in _statements(tree, "deploy") for action in s["actions"]}
    assert actions == DEPLOY_ACTIONS
    assert not any("*" in action for action in actions)


def test_deploy_role_allows_every_call_the_deploy_engine_makes(tree: TerraformTree) -> None:
    """The engine's boto3 calls, read from its source: a new call without its IAM action fails
    here before it fails in a real deploy with AccessDenied."""
    calls: set[tuple[str, str]] = set()
    engine = tree.repo_root / "ci" / "src" / "shipyard" / "tools" / "deploy"
    for path in sorted(engine.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        calls |= {c for c in ENGINE_CALL.findall(text) if c[1] != "get_paginator"}
        calls |= set(ENGINE_PAGINATOR.findall(text))
    actions = {f"{service}:{method.title().replace('_', '')}" for service, method in calls}
    assert len(actions) >= 8, f"the scan of the deploy engine found only {actions}"
    missing = actions - DEPLOY_ACTIONS
    assert not missing, f"the deploy engine calls {sorted(missing)}, which the deploy role denies"


def test_deploy_role_scopes_every_scopable_action(tree: TerraformTree) -> None:
    for statement in _statements(tree, "deploy"):
        if statement["resources"] != ["*"]:
            continue
        unscoped = set(statement["actions"]) - UNSCOPABLE
        constrained = "condition" in statement
        assert not unscoped or constrained, f"{statement['sid']} grants {unscoped} on *"


def test_deploy_role_passes_only_the_service_roles_to_ecs(tree: TerraformTree) -> None:
    (passrole,) = [s for s in _statements(tree, "deploy") if "iam:PassRole" in s["actions"]]
    resources = json.dumps(passrole["resources"])
    assert "aws_iam_role.execution.arn" in resources
    assert "aws_iam_role.task" in resources
    assert "aws_iam_role.deploy" not in resources
    (condition,) = passrole["condition"]
    assert condition["variable"] == "iam:PassedToService"
    assert condition["values"] == ["ecs-tasks.amazonaws.com"]


def test_deploy_role_trusts_only_this_repository_and_its_environments(
    tree: TerraformTree,
) -> None:
    (statement,) = _statements(tree, "deploy_assume")
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {c["variable"].split(":")[-1]: c for c in statement["condition"]}
    assert conditions["aud"]["test"] == "StringEquals"
    assert conditions["aud"]["values"] == ["sts.amazonaws.com"]
    # StringEquals: no wildcard can widen the subject to other repositories or branches.
    assert conditions["sub"]["test"] == "StringEquals"
    subjects = tree.blocks(tree.module_dir("iam"), "locals")["github_subjects"]
    assert "repo:${var.github_repository}:environment:${env}" in subjects


def test_task_roles_only_read_the_data_bucket(tree: TerraformTree) -> None:
    actions = {a for s in _statements(tree, "task_read_data") for a in s["actions"]}
    assert actions == {
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "kms:Decrypt",
    }


def test_load_balancer_drops_invalid_headers_and_redirects_http(tree: TerraformTree) -> None:
    resources = tree.resources(tree.module_dir("alb"))
    alb = resources["aws_lb.this"]
    assert alb["drop_invalid_header_fields"] is True
    assert alb["access_logs"][0]["enabled"] is True
    (http_action,) = resources["aws_lb_listener.http"]["default_action"]
    assert http_action["type"] == "redirect"
    assert http_action["redirect"][0]["protocol"] == "HTTPS"
    target_group = resources["aws_lb_target_group.this"]
    assert target_group["health_check"][0]["path"] == "${var.health_check_path}"


def test_ecr_repository_is_immutable_scanned_and_kms_encrypted(tree: TerraformTree) -> None:
    repository = tree.resources(tree.module_dir("ecr"))["aws_ecr_repository.this"]
    assert repository["image_tag_mutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repository["image_tag_mutability_exclusion_filter"] == [
        {"filter": "latest", "filter_type": "WILDCARD"}
    ]
    assert repository["image_scanning_configuration"] == [{"scan_on_push": True}]
    assert repository["encryption_configuration"][0]["encryption_type"] == "KMS"


def test_every_bucket_is_built_by_the_s3_bucket_module(tree: TerraformTree) -> None:
    """One place hardens buckets: a bucket declared anywhere else would miss it."""
    declaring = [
        directory.name
        for directory in tree.module_dirs
        if any(address.startswith("aws_s3_bucket.") for address in tree.resources(directory))
    ]
    assert declaring == ["s3-bucket"]
    callers = {
        name: call
        for directory in tree.module_dirs
        for name, call in tree.blocks(directory, "module").items()
        if call["source"] == "../s3-bucket"
    }
    assert set(callers) == {"access_log_bucket", "bucket"}
    assert callers["access_log_bucket"]["encryption"] == {"sse_algorithm": "AES256"}
    assert callers["bucket"]["encryption"] == {
        "sse_algorithm": "aws:kms",
        "kms_key_arn": "${var.kms_key_arn}",
    }


def test_every_bucket_refuses_plain_http_and_tls_before_1_2(tree: TerraformTree) -> None:
    bucket_module = tree.module_dir("s3-bucket")
    refused = tree.blocks(bucket_module, "locals")["refused_transport"]
    assert refused == {
        "DenyInsecureTransport": {
            "test": "Bool",
            "variable": "aws:SecureTransport",
            "values": ["false"],
        },
        "DenyOutdatedTls": {
            "test": "NumericLessThan",
            "variable": "s3:TlsVersion",
            "values": ["1.2"],
        },
    }
    document = tree.resources(bucket_module, kind="data")["aws_iam_policy_document.this"]
    ((_, statement),) = [item for block in document["dynamic"] for item in block.items()]
    assert statement["for_each"] == "${local.refused_transport}"
    (content,) = statement["content"]
    assert content["effect"] == "Deny"
    assert content["actions"] == ["s3:*"]
    assert content["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert content["resources"] == ["${aws_s3_bucket.this.arn}", "${aws_s3_bucket.this.arn}/*"]
    policy = tree.resources(bucket_module)["aws_s3_bucket_policy.this"]
    assert policy["policy"] == "${data.aws_iam_policy_document.this.json}"
