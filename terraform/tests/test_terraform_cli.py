"""The real terraform CLI over terraform/: formatting, validation against the aws provider's
schema, and the environments' variable files against the root variables' validation rules."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any

import pytest

TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable

PROVIDER = "registry.terraform.io/hashicorp/aws"
# OpenTofu (installed where the machine has no terraform) resolves hashicorp/aws on its own host.
PROVIDERS = [PROVIDER, "registry.opentofu.org/hashicorp/aws"]
MIRROR_SETUP = "scripts/setup.d/45-terraform-provider-mirror.sh"


def _run(
    args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _copy_configuration(tree: TerraformTree, destination: Path) -> Path:
    """The root module, its modules and the variable files; no READMEs, tests or local state."""
    target = destination / "terraform"
    shutil.copytree(
        tree.root, target, ignore=shutil.ignore_patterns("tests", "*.md", ".terraform*")
    )
    return target


def test_fmt_check_is_clean(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str]
) -> None:
    result = _run([terraform_bin, "fmt", "-check", "-recursive", "-diff"], tree.root, terraform_env)
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def test_fmt_check_catches_a_misformatted_file(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str], tmp_path: Path
) -> None:
    """The check above can fail: the same command flags a file that is not canonical."""
    copy = _copy_configuration(tree, tmp_path)
    main = copy / "main.tf"
    main.write_text(
        main.read_text(encoding="utf-8").replace("  name       =", "name=", 1), encoding="utf-8"
    )
    result = _run([terraform_bin, "fmt", "-check", "-recursive"], copy, terraform_env)
    assert result.returncode != 0
    assert "main.tf" in result.stdout


# --- validation against the provider -------------------------------------------------------


def _mirror() -> tuple[Path, dict[str, Any] | None]:
    """The provider mirror and, when it holds the schema stub, the stub's description."""
    configured = os.environ.get("TF_PROVIDER_MIRROR")
    root = Path(__file__).resolve().parents[2]
    mirror = Path(configured) if configured else root / ".tools" / "terraform-providers"
    if not any((mirror / PROVIDER).glob("*/*/terraform-provider-aws*")):
        pytest.fail(
            f"no {PROVIDER} in the filesystem mirror {mirror}: run ./dev setup ({MIRROR_SETUP})"
        )
    stub_info = Path(f"{mirror}.stub.json")
    if not stub_info.exists():
        return mirror, None
    info: dict[str, Any] = json.loads(stub_info.read_text(encoding="utf-8"))
    return mirror, info


def _closing_brace(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise AssertionError(f"unbalanced braces after offset {opening}")


def _nested_blocks(text: str, name: str, outer: tuple[int, int]) -> list[tuple[int, int]]:
    """(opening, closing) brace offsets of the `name { ... }` blocks inside outer, any depth."""
    found: list[tuple[int, int]] = []
    pattern = re.compile(rf"^\s*{re.escape(name)} \{{", re.MULTILINE)
    for match in pattern.finditer(text, outer[0] + 1, outer[1]):
        opening = match.end() - 1
        if found and opening < found[-1][1]:
            continue  # inside a block already taken
        found.append((opening, _closing_brace(text, opening)))
    return found


def _blank_truncated_subtrees(copy: Path, truncated: list[str]) -> list[str]:
    """Empty the blocks whose contents the schema stub does not know (their schema source
    truncates them); returns "file: path" for each, so the test can name what went unchecked."""
    blanked: list[str] = []
    for path in sorted(copy.rglob("*.tf")):
        text = path.read_text(encoding="utf-8")
        spans: list[tuple[int, int]] = []
        for entry in truncated:
            resource_type, *block_path = entry.split(".")
            pattern = re.compile(rf'^resource "{resource_type}" "[\w-]+" \{{', re.MULTILINE)
            level = [
                (m.end() - 1, _closing_brace(text, m.end() - 1)) for m in pattern.finditer(text)
            ]
            for block in block_path:
                level = [inner for outer in level for inner in _nested_blocks(text, block, outer)]
            spans += level
            blanked += [f"{path.relative_to(copy)}: {entry}"] * len(level)
        for opening, closing in sorted(spans, reverse=True):
            text = text[: opening + 1] + "\n" + text[closing:]
        path.write_text(text, encoding="utf-8")
    return blanked


class Initialized:
    """A copy of terraform/ initialised against the provider mirror, with a local backend."""

    def __init__(
        self, directory: Path, env: dict[str, str], stub: dict[str, Any] | None, blanked: list[str]
    ) -> None:
        self.directory = directory
        self.env = env
        self.stub = stub
        self.blanked = blanked

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return _run([self.env["TERRAFORM_BIN"], *args], self.directory, self.env, stdin=stdin)


def _initialize(
    tree: TerraformTree,
    terraform_bin: str,
    env: dict[str, str],
    workdir: Path,
    edit: tuple[str, str, str] | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> Initialized:
    mirror, stub = _mirror()
    copy = _copy_configuration(tree, workdir)
    if prepare is not None:
        prepare(copy)
    if edit is not None:
        relative, old, new = edit
        target = copy / relative
        target.write_text(target.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    blanked = _blank_truncated_subtrees(copy, stub["truncated"]) if stub else []
    # The S3 backend needs AWS; a local backend (override file) lets console read variables.
    (copy / "backend_override.tf").write_text(
        'terraform {\n  backend "local" {}\n}\n', encoding="utf-8"
    )
    cli_config = workdir / "mirror.tfrc"
    cli_config.write_text(
        "provider_installation {\n  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n    include = {json.dumps(PROVIDERS)}\n'
        "  }\n}\n",
        encoding="utf-8",
    )
    env = {**env, "TF_CLI_CONFIG_FILE": str(cli_config), "TERRAFORM_BIN": terraform_bin}
    initialized = Initialized(copy, env, stub, blanked)
    init = initialized.run("init", "-input=false", "-no-color")
    assert init.returncode == 0, f"terraform init against {mirror} failed:\n{init.stderr}"
    return initialized


@pytest.fixture(scope="module")
def initialized(
    tree: TerraformTree, terraform_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Initialized:
    workdir = tmp_path_factory.mktemp("validate")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return _initialize(tree, terraform_bin, env, workdir)


def test_validate_against_the_aws_provider_schema(initialized: Initialized) -> None:
    result = initialized.run("validate", "-json", "-no-color")
    report = json.loads(result.stdout)
    kind = "schema stub" if initialized.stub else "real provider"
    assert report["valid"], f"({kind})\n" + json.dumps(report["diagnostics"], indent=2)
    assert report["warning_count"] == 0, json.dumps(report["diagnostics"], indent=2)


def test_only_the_waf_rule_statements_escape_schema_validation(initialized: Initialized) -> None:
    """Name what the stub cannot check: the WAF rule statements (checkov checks their rule
    groups); nothing else of this configuration."""
    if initialized.stub is None:
        assert initialized.blanked == []
        return
    unchecked = {entry.split(": ", 1)[1] for entry in initialized.blanked}
    assert unchecked == {"aws_wafv2_web_acl.rule.statement"}
    assert len(initialized.blanked) == 5, initialized.blanked  # one per WAF rule


def test_validate_rejects_an_argument_the_provider_does_not_have(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str], tmp_path: Path
) -> None:
    """The validation above can fail: a misspelt argument is caught by the provider schema."""
    edit = (
        "modules/ecs-service/main.tf",
        "deployment_maximum_percent",
        "deployment_maximal_percent",
    )
    broken = _initialize(tree, terraform_bin, terraform_env, tmp_path, edit)
    result = broken.run("validate", "-json", "-no-color")
    report = json.loads(result.stdout)
    assert not report["valid"]
    assert "deployment_maximal_percent" in result.stdout


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_environment_values_pass_the_root_variable_validations(
    initialized: Initialized, environment: str
) -> None:
    result = initialized.run(
        "console",
        "-no-color",
        f"-var-file=environments/{environment}.tfvars",
        stdin="jsonencode([var.environment, local.name, var.availability_zones])\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr, result.stderr
    assert f"gridserve-{environment}" in result.stdout


def test_an_invalid_environment_value_is_rejected_before_any_change(
    initialized: Initialized, tmp_path: Path
) -> None:
    staging = (initialized.directory / "environments" / "staging.tfvars").read_text(
        encoding="utf-8"
    )
    bad = tmp_path / "bad.tfvars"
    bad.write_text(staging.replace('"ap-southeast-2b"', '"us-east-1a"'), encoding="utf-8")
    result = initialized.run("console", "-no-color", f"-var-file={bad}", stdin="var.region\n")
    # terraform exits 1 here; OpenTofu's console prints the same error but exits 0.
    assert "Invalid value for variable" in result.stderr
    assert "Every zone in availability_zones must belong to region" in result.stderr


def test_provider_schema_matches_known_facts_of_hashicorp_aws(initialized: Initialized) -> None:
    """Whatever the mirror holds (the real provider or the stub) must describe these arguments
    as the provider's documentation does; a regression in the stub's schema rebuild fails here."""
    result = initialized.run("providers", "schema", "-json")
    assert result.returncode == 0, result.stderr
    schemas = json.loads(result.stdout)["provider_schemas"]
    (aws,) = [schema for address, schema in schemas.items() if address.endswith("/hashicorp/aws")]
    service = aws["resource_schemas"]["aws_ecs_service"]["block"]
    breaker = service["block_types"]["deployment_circuit_breaker"]
    assert breaker["nesting_mode"] == "list"
    assert breaker["max_items"] == 1
    rollback = breaker["block"]["attributes"]["rollback"]
    assert (rollback["type"], rollback.get("required")) == ("bool", True)
    assert service["attributes"]["name"]["required"] is True
    assert service["block_types"]["load_balancer"]["nesting_mode"] == "set"
    load_balancer = aws["resource_schemas"]["aws_lb"]["block"]["attributes"]
    assert load_balancer["arn_suffix"]["computed"] is True
    assert "optional" not in load_balancer["arn_suffix"]
    assert load_balancer["drop_invalid_header_fields"]["type"] == "bool"
    document = aws["data_source_schemas"]["aws_iam_policy_document"]["block"]
    assert document["attributes"]["json"]["computed"] is True
    condition = document["block_types"]["statement"]["block"]["block_types"]["condition"]
    assert condition["block"]["attributes"]["values"]["type"] == ["list", "string"]
    assert aws["provider"]["block"]["attributes"]["region"]["optional"] is True


# --- state moves ---------------------------------------------------------------------------

# The last commit whose alb and data modules declared their buckets' resources themselves: the
# configuration the existing environments' state was applied from, before modules/s3-bucket (and
# before modules/kms-key, which took over the keys the root, data, ecr and monitoring declared).
PRE_MOVE_COMMIT = "c9268c38d54571b2ccd71c75b2bf097cfce509d5"
# Each KMS key's address before modules/kms-key, and its address now.
KMS_KEY_MOVES = {
    "aws_kms_key.logs": "module.logs_key.aws_kms_key.this",
    "module.data.aws_kms_key.this": "module.data_key.aws_kms_key.this",
    "module.ecr.aws_kms_key.this": "module.ecr.module.key.aws_kms_key.this",
    "module.monitoring.aws_kms_key.alarms": "module.monitoring.module.alarms_key.aws_kms_key.this",
}
MOVING_MODULES = ("root", "alb", "data", "ecr", "monitoring")


def _in_module(module: str, address: str) -> str:
    """The state address of `address` as the root module or module `module` names it."""
    return address if module == "root" else f"module.{module}.{address}"


MOVED_S3_TYPES = (
    "aws_s3_bucket",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_notification",
    "aws_s3_bucket_policy",
)
EXPECTED_MOVES = {
    **{
        f"module.alb.{kind}.access_logs": f"module.alb.module.access_log_bucket.{kind}.this"
        for kind in MOVED_S3_TYPES
    },
    **{
        f"module.data.{kind}.this": f"module.data.module.bucket.{kind}.this"
        for kind in MOVED_S3_TYPES
    },
    **KMS_KEY_MOVES,
    **{  # each key's alias moves with it
        before.replace("aws_kms_key", "aws_kms_alias"): after.replace(
            "aws_kms_key", "aws_kms_alias"
        )
        for before, after in KMS_KEY_MOVES.items()
    },
}
# The buckets, their settings and the KMS keys encrypting data: a refactor destroys none of them.
PRECIOUS_TYPES = re.compile(r"^aws_(s3_bucket|kms_key)")
# Provider answers for `terraform test`, (block, type) -> attributes: values the modules' input
# validations accept. The mock provider gives every other computed attribute a random string.
ACCOUNT = "111111111111"
MOCKED_ATTRIBUTES: dict[tuple[str, str], dict[str, str]] = {
    ("mock_data", "aws_caller_identity"): {"account_id": ACCOUNT},
    ("mock_data", "aws_partition"): {"partition": "aws"},
    ("mock_data", "aws_iam_policy_document"): {"json": "{}"},
    ("mock_resource", "aws_vpc"): {"id": "vpc-0123456789abcdef0"},
    ("mock_resource", "aws_vpc_endpoint"): {"prefix_list_id": "pl-6ca54005"},
    ("mock_resource", "aws_security_group"): {"id": "sg-0123456789abcdef0"},
    ("mock_resource", "aws_kms_key"): {"arn": "arn:aws:kms:$region:$account:key/mock"},
    ("mock_resource", "aws_ecr_repository"): {
        "arn": "arn:aws:ecr:$region:$account:repository/mock"
    },
    ("mock_resource", "aws_ecs_cluster"): {"arn": "arn:aws:ecs:$region:$account:cluster/mock"},
    ("mock_resource", "aws_iam_role"): {"arn": "arn:aws:iam::$account:role/mock"},
    ("mock_resource", "aws_lb"): {"arn_suffix": "app/mock/1"},
    ("mock_resource", "aws_lb_target_group"): {
        "arn": "arn:aws:elasticloadbalancing:$region:$account:targetgroup/mock/1",
        "arn_suffix": "targetgroup/mock/1",
    },
}
# The buckets as the provider reports them: the ID is the name, the ARN names it.
BUCKETS_BEFORE_THE_MOVE = {
    "module.alb.aws_s3_bucket.access_logs": "gridserve-$environment-access-logs-$account",
    "module.data.aws_s3_bucket.this": "gridserve-$environment-data-$account",
}
# The pre-move configuration applied, then the current one planned on the same state.
RUNS = """
run "before_the_move" {
  module {
    source = "./before-the-move"
  }
  state_key = "environment"
%(bucket_overrides)s}

run "after_the_move" {
  command   = plan
  state_key = "environment"
}
"""


def _moves_test_file(environment: str, region: str, zones: list[str]) -> str:
    """The `terraform test` file: the mocked provider, then the two runs (HCL reads the JSON
    objects json.dumps writes)."""
    names = {"environment": environment, "region": region, "account": ACCOUNT}
    mocks: dict[tuple[str, str], dict[str, Any]] = {
        key: {name: Template(value).substitute(names) for name, value in values.items()}
        for key, values in MOCKED_ATTRIBUTES.items()
    }
    mocks["mock_data", "aws_availability_zones"] = {"names": zones}
    blocks = "".join(
        f'  {block} "{kind}" {{\n    defaults = {json.dumps(values)}\n  }}\n'
        for (block, kind), values in mocks.items()
    )
    overrides = ""
    for address, pattern in BUCKETS_BEFORE_THE_MOVE.items():
        name = Template(pattern).substitute(names)
        bucket = {"id": name, "arn": f"arn:aws:s3:::{name}"}
        overrides += (
            f"  override_resource {{\n    target = {address}\n"
            f"    values = {json.dumps(bucket)}\n  }}\n"
        )
    return f'mock_provider "aws" {{\n{blocks}}}\n' + RUNS % {"bucket_overrides": overrides}


def _require_state_key_support(terraform_bin: str, env: dict[str, str]) -> None:
    """Run blocks share state across configurations (`state_key`) from Terraform 1.11 on;
    OpenTofu has no equivalent, so there the static test below is what checks the moves."""
    first_line = _run([terraform_bin, "version"], Path.cwd(), env).stdout.splitlines()[0]
    found = re.fullmatch(r"Terraform v(\d+)\.(\d+)\.\d+.*", first_line)
    if found is None or (int(found[1]), int(found[2])) < (1, 11):
        pytest.skip(f"planning across a state move needs Terraform >= 1.11, not {first_line}")


def _plan_on_pre_move_state(
    tree: TerraformTree,
    terraform_bin: str,
    env: dict[str, str],
    workdir: Path,
    drop: str | None = None,
) -> dict[str, Any]:
    """The plan JSON of the current configuration (minus the file `drop`) against the state the
    pre-move configuration leaves, both from the real terraform CLI under `terraform test`."""
    _require_state_key_support(terraform_bin, env)
    staging = tree.tfvars("staging")

    def archive_pre_move_tree() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "-C", str(tree.repo_root), "archive", PRE_MOVE_COMMIT, "terraform"],
            capture_output=True,
            check=False,
        )

    def prepare(copy: Path) -> None:
        archive = archive_pre_move_tree()
        if archive.returncode != 0:
            # A shallow clone lacks the commit; its origin has it.
            subprocess.run(
                ["git", "-C", str(tree.repo_root), "fetch", "--quiet", "origin", PRE_MOVE_COMMIT],
                capture_output=True,
                check=False,
            )
            archive = archive_pre_move_tree()
        assert archive.returncode == 0, (
            f"commit {PRE_MOVE_COMMIT} is not in this clone and origin did not serve it: run "
            f"`git fetch --unshallow`\n{archive.stderr.decode(errors='replace')}"
        )
        before = copy / "before-the-move"
        before.mkdir()
        subprocess.run(
            ["tar", "-x", "--strip-components=1", "-C", str(before)],
            input=archive.stdout,
            check=True,
        )
        shutil.rmtree(before / "tests")
        (copy / "tests").mkdir()
        test_file = _moves_test_file(
            staging["environment"], staging["region"], staging["availability_zones"]
        )
        (copy / "tests" / "moves.tftest.hcl").write_text(test_file, encoding="utf-8")
        if drop is not None:
            (copy / drop).unlink()

    initialized = _initialize(tree, terraform_bin, env, workdir, prepare=prepare)
    result = initialized.run(
        "test", "-json", "-verbose", "-no-color", "-var-file=environments/staging.tfvars"
    )
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    outcomes = {
        m["test_run"]["run"]: m["test_run"].get("status")
        for m in messages
        if m["type"] == "test_run" and m["test_run"]["progress"] == "complete"
    }
    diagnostics = [
        f"{m['@message']}: {m['diagnostic'].get('detail', '')}"
        for m in messages
        if m["type"] == "diagnostic"
    ]
    assert outcomes == {"before_the_move": "pass", "after_the_move": "pass"}, (
        f"{outcomes}\n" + "\n".join(diagnostics) + result.stderr
    )
    plans: list[dict[str, Any]] = [m["test_plan"] for m in messages if m["type"] == "test_plan"]
    (plan,) = plans
    return plan


def _destroyed(plan: dict[str, Any]) -> list[str]:
    return [
        f"{change['address']} ({'/'.join(change['change']['actions'])})"
        for change in plan["resource_changes"]
        if PRECIOUS_TYPES.match(change["type"]) and "delete" in change["change"]["actions"]
    ]


def test_state_moves_keep_every_bucket(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str], tmp_path: Path
) -> None:
    """An environment applied before modules/s3-bucket plans with every bucket resource moved,
    none destroyed or replaced: the `moved` blocks carry the state over."""
    plan = _plan_on_pre_move_state(tree, terraform_bin, terraform_env, tmp_path)
    changes = {change["address"]: change for change in plan["resource_changes"]}
    moves = {c["previous_address"]: a for a, c in changes.items() if "previous_address" in c}
    assert moves == EXPECTED_MOVES
    for address in EXPECTED_MOVES.values():
        assert changes[address]["change"]["actions"] in (["no-op"], ["update"]), address
    assert not _destroyed(plan)


@pytest.mark.parametrize(
    ("moved_file", "destroyed"),
    [
        ("modules/data/moved.tf", ["module.data.aws_s3_bucket.this (delete)"]),
        ("moved.tf", ["aws_kms_key.logs (delete)", "module.data.aws_kms_key.this (delete)"]),
    ],
)
def test_state_move_check_catches_a_missing_moved_block(
    tree: TerraformTree,
    terraform_bin: str,
    terraform_env: dict[str, str],
    tmp_path: Path,
    moved_file: str,
    destroyed: list[str],
) -> None:
    """The test above can fail: without the data module's `moved` blocks the same plan destroys
    the data bucket, without the root module's the logs key and the data bucket's key."""
    plan = _plan_on_pre_move_state(tree, terraform_bin, terraform_env, tmp_path, drop=moved_file)
    missing = [address for address in destroyed if address not in _destroyed(plan)]
    assert not missing, f"{moved_file} dropped, yet the plan keeps {missing}"


def test_every_moved_block_names_a_declared_resource_of_the_same_type(
    tree: TerraformTree,
) -> None:
    """What `terraform validate` does not check (a `to` that names nothing, or another type),
    read from the HCL; runs where the plan above cannot (OpenTofu)."""
    declared_moves: dict[str, str] = {}
    for caller in MOVING_MODULES:
        directory = tree.module_dir(caller)
        for path in sorted(directory.glob("*.tf")):
            for moved in tree.parse_file(path).get("moved", []):
                source, target = (
                    moved[end].removeprefix("${").rstrip("}") for end in ("from", "to")
                )
                declared_moves[_in_module(caller, source)] = _in_module(caller, target)
                assert _declared(tree, directory, target), f"{target}: not declared"
                assert source.split(".")[-2] == target.split(".")[-2], (
                    f"{source} -> {target}: type changes"
                )
                assert not _declared(tree, directory, source), f"{source} is still declared"
    assert declared_moves == EXPECTED_MOVES


def _declared(tree: TerraformTree, directory: Path, address: str) -> bool:
    """Whether `address`, as the module in `directory` names it, is a declared resource."""
    *calls, kind, name = address.split(".")
    for call in calls[1::2]:  # module.<call>.module.<call>...
        directory = (directory / tree.blocks(directory, "module")[call]["source"]).resolve()
    return f"{kind}.{name}" in tree.resources(directory)
