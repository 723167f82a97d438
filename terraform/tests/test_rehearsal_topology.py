"""The rehearsal's emulated platform is shaped by this terraform code, not retyped: names, ALB
routes, container names and the `pipeline` output's keys come out the same."""

from __future__ import annotations

from typing import Any

from shipyard.decide import topology

TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable


def _hcl_string(value: str) -> str:
    return value.strip('"')


def _services(tree: TerraformTree) -> dict[str, Any]:
    locals_block = tree.parse_file(tree.root / "main.tf")["locals"][0]
    return dict(locals_block["services"])


def _local_name(environment: str, tree: TerraformTree) -> str:
    variables = tree.blocks(tree.root, "variable", "variables.tf")
    return f"{_hcl_string(variables['project']['default'])}-{environment}"


def test_the_rehearsal_names_resources_as_terraform_does(tree: TerraformTree) -> None:
    services = _services(tree)
    assert tuple(services) == topology.ROLES
    for environment in topology.ENVIRONMENTS:
        name = _local_name(environment, tree)
        assert topology.name(environment) == name
        for role, service in services.items():
            expected = _hcl_string(service["service_name"]).replace("${local.name}", name)
            assert topology.service_name(environment, role) == expected
            assert _hcl_string(service["container_name"]) == role


def test_the_rehearsal_listener_routes_like_the_alb_rules(tree: TerraformTree) -> None:
    routes = {
        _hcl_string(pattern): role
        for role, service in _services(tree).items()
        for pattern in service["path_patterns"]
    }
    assert routes == topology.LISTENER_RULES


def test_the_rehearsal_pipeline_config_has_the_terraform_output_shape(tree: TerraformTree) -> None:
    output = tree.blocks(tree.root, "output")["pipeline"]["value"]
    config = topology.pipeline_config("staging", "arn:aws:iam::1:role/x")
    assert set(config) == set(output)
    assert config["deploy_order"] == [_hcl_string(role) for role in output["deploy_order"]]
    assert set(config["service_names"]) == set(_services(tree))
