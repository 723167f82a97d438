"""What the pipeline relies on: one object of names, two environments that differ in values only."""

from __future__ import annotations

from typing import Any

TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable

PIPELINE_KEYS = {
    "alb_url",
    "ecr_repository_url",
    "cluster_name",
    "service_names",
    "container_names",
    "deploy_role_arn",
}
SERVICE_ROLES = {"tiles", "timeseries"}


def _tfvars_keys(tree: TerraformTree, environment: str) -> set[str]:
    return {key for key in tree.tfvars(environment) if not key.startswith("__")}


def test_pipeline_output_holds_every_name_the_pipeline_needs(tree: TerraformTree) -> None:
    pipeline = tree.blocks(tree.root, "output")["pipeline"]["value"]
    assert isinstance(pipeline, dict), "the pipeline output must be an object"
    missing = PIPELINE_KEYS - set(pipeline)
    assert not missing, f"pipeline output lacks {sorted(missing)}"


def test_pipeline_output_reads_the_same_sources_as_the_single_outputs(
    tree: TerraformTree,
) -> None:
    """The object and the individual outputs must not drift apart: same expression per name."""
    outputs = tree.blocks(tree.root, "output")
    pipeline = outputs["pipeline"]["value"]
    for key in PIPELINE_KEYS:
        assert pipeline[key] == outputs[key]["value"], f"pipeline.{key} != output {key}"


def test_pipeline_deploy_order_covers_both_services(tree: TerraformTree) -> None:
    pipeline = tree.blocks(tree.root, "output")["pipeline"]["value"]
    assert sorted(pipeline["deploy_order"]) == sorted(SERVICE_ROLES)


def test_service_names_are_defined_once_in_the_root_locals(tree: TerraformTree) -> None:
    locals_ = tree.blocks(tree.root, "locals")
    services = locals_["services"]
    assert set(services) == SERVICE_ROLES
    for role, service in services.items():
        assert service["container_name"] == role
        assert role in service["service_name"]
        assert role in service["log_group_name"]


def test_ecs_service_module_is_used_for_both_roles_from_one_image(tree: TerraformTree) -> None:
    calls = tree.blocks(tree.root, "module")
    service_calls = {name: body for name, body in calls.items() if "ecs-service" in body["source"]}
    assert list(service_calls) == ["service"], "one module block, instantiated per service"
    call = service_calls["service"]
    assert call["for_each"] == "${local.services}"
    assert call["app_role"] == "${each.key}"
    # One image: the same repository for every instance.
    assert call["image"].startswith("${module.ecr.repository_url}:")


def test_routes_send_tiles_and_api_paths_to_their_services(tree: TerraformTree) -> None:
    services = tree.blocks(tree.root, "locals")["services"]
    assert "/tiles/*" in services["tiles"]["path_patterns"]
    assert "/api/*" in services["timeseries"]["path_patterns"]
    routed = services["tiles"]["path_patterns"] + services["timeseries"]["path_patterns"]
    assert "/health" in routed
    assert "/metrics" in routed


def test_staging_and_production_set_the_same_keys(tree: TerraformTree) -> None:
    staging, production = (_tfvars_keys(tree, env) for env in tree.environments)
    assert staging == production, (
        f"only in staging: {sorted(staging - production)}, "
        f"only in production: {sorted(production - staging)}"
    )


def test_tfvars_set_only_declared_root_variables(tree: TerraformTree) -> None:
    declared = set(tree.blocks(tree.root, "variable"))
    for environment in tree.environments:
        unknown = _tfvars_keys(tree, environment) - declared
        assert not unknown, f"{environment}.tfvars sets undeclared variables {sorted(unknown)}"


def test_tfvars_set_every_required_root_variable(tree: TerraformTree) -> None:
    variables = tree.blocks(tree.root, "variable")
    required = {name for name, body in variables.items() if "default" not in body}
    for environment in tree.environments:
        missing = required - _tfvars_keys(tree, environment)
        assert not missing, f"{environment}.tfvars misses required variables {sorted(missing)}"


def test_each_tfvars_names_its_own_environment(tree: TerraformTree) -> None:
    for environment in tree.environments:
        values = tree.tfvars(environment)
        assert values["environment"] == environment
        assert values["github_environments"] == [environment]
        assert set(values["services"]) == SERVICE_ROLES


def test_both_environments_default_to_the_same_region(tree: TerraformTree) -> None:
    regions = {tree.tfvars(env)["region"] for env in tree.environments}
    assert regions == {"ap-southeast-2"}
    for environment in tree.environments:
        zones = tree.tfvars(environment)["availability_zones"]
        assert len(zones) >= 2
        assert all(zone.startswith("ap-southeast-2") for zone in zones)
