"""The module's shape as the Dagger SDK registers it, read through the SDK's own decorators."""

import functools
import inspect
import typing
from typing import Any

import anyio
import dagger
import pytest
from dagger.mod import default_module
from shipyard.decide.pipeline_flow import PipelineError
from shipyard.module.main import Shipyard

NEVER_CACHED = {"publish", "deploy", "rollback", "smoke", "notify", "run-pipeline", "rehearse"}
STAGES = {
    "test",
    "coverage",
    "test-durations",
    "lint",
    "build",
    "serve",
    "publish",
    "docs",
    "docs-check",
    "scan",
    "plan",
    "deploy",
    "rollback",
    "smoke",
    "notify",
    "cost",
    "run-pipeline",
    "rehearse",
}


def _object_type() -> Any:
    """The SDK's registration of the module's object, read the public way."""
    return default_module().get_object(Shipyard.__name__)


def _functions() -> dict[str, Any]:
    return {name: fn for name, fn in _object_type().functions.items() if name}


def _api_name(name: str) -> str:
    return name.replace("_", "-")


def _without_none(annotation: Any) -> Any:
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return members[0] if len(members) == 1 else annotation


def test_checks_generators_and_services_are_marked_for_dagger_check_generate_and_up() -> None:
    """`dagger check` runs the checks, `dagger generate` the docs, `dagger up` the service; each
    stays a function of its own (`dagger call scan`)."""
    functions = _functions()
    assert {n for n, fn in functions.items() if fn.check} == {"test", "lint", "scan", "docs_check"}
    assert {n for n, fn in functions.items() if fn.generate} == {"docs"}
    assert {n for n, fn in functions.items() if fn.service} == {"serve"}
    for name in ("test", "lint", "scan", "docs_check", "docs", "serve"):
        required = [
            p.name
            for p in functions[name].parameters.values()
            if p.signature.default is inspect.Parameter.empty and not p.default_path
        ]
        assert required == [], f"{name} needs {required}: dagger check/generate/up cannot call it"


def test_every_stage_is_a_function() -> None:
    assert {_api_name(name) for name in _functions()} == STAGES


@pytest.mark.parametrize("name", sorted(STAGES))
def test_each_function_has_a_one_line_docstring(name: str) -> None:
    doc = _functions()[name.replace("-", "_")].doc
    assert doc, f"{name} has no docstring"
    assert "\n" not in doc.strip(), f"{name}'s docstring is not one line"
    assert len(doc) <= 100


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_argument_is_documented(name: str) -> None:
    for parameter in _functions()[name.replace("-", "_")].parameters.values():
        assert parameter.doc, f"{name} --{parameter.name} has no Doc(...)"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_side_effects_are_never_cached_and_the_rest_use_the_default(name: str) -> None:
    policy = _functions()[name.replace("-", "_")].cache_policy
    assert policy == ("never" if name in NEVER_CACHED else None)


def test_directory_arguments_default_to_narrow_repo_paths() -> None:
    for name, fn in _functions().items():
        for parameter in fn.parameters.values():
            # An optional directory (cost --base) means "not given" when left out.
            if parameter.resolved_type is dagger.Directory or (
                _without_none(parameter.resolved_type) is dagger.Directory
                and parameter.default_path
            ):
                assert parameter.default_path, f"{name} --{parameter.name} has no DefaultPath"
                assert parameter.ignore, f"{name} --{parameter.name} has no Ignore"


def test_secrets_are_only_ever_taken_as_secrets() -> None:
    words = ("key", "token", "webhook", "password")
    for name, fn in _functions().items():
        for parameter in fn.parameters.values():
            if any(word in parameter.name.lower() for word in words):
                assert _without_none(parameter.resolved_type) is dagger.Secret, (
                    f"{name} --{parameter.name}"
                )


def test_the_main_object_constructor_is_documented() -> None:
    constructor = _object_type().get_constructor()
    for parameter in constructor.parameters.values():
        assert parameter.doc


def test_cost_without_a_key_says_it_skipped_and_touches_nothing() -> None:
    # No engine needed: the function returns before it builds any container.
    untouched: Any = object()
    answer = anyio.run(Shipyard().cost, untouched, untouched)
    assert answer == "skipped: no INFRACOST_API_KEY"


def test_a_release_without_its_terraform_outputs_is_refused_before_anything_runs() -> None:
    untouched: Any = object()
    sources = dict.fromkeys(
        ("project", "app_project", "app", "terraform", "docs_source", "ci", "repo", "tool_locks"),
        untouched,
    )
    with pytest.raises(PipelineError, match="--pipeline-config is not JSON"):
        anyio.run(
            functools.partial(
                Shipyard().run_pipeline,
                event="push",
                ref="refs/heads/main",
                git_sha="0123456789abcdef0123456789abcdef01234567",
                **sources,
            )
        )
