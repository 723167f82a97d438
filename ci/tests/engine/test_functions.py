"""Every Dagger function of the module, executed by the real engine the kit provisions.

The functions are called from a client session with the repository's directories (the
`DefaultPath`s the module declares, narrowed by their `Ignore`s), as `python -m shipyard.module.cli`
calls them; the Python module runtime itself cannot be built offline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagger
import pytest
from dagger.mod import default_module
from shipyard.decide.images import ImageCatalog
from shipyard.module import test_shards
from shipyard.module.cli import repository_sources
from shipyard.module.main import Shipyard
from shipyard.module.steps import StageFailed

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

REPO = Path(__file__).resolve().parents[3]
SCAN_FIXTURE = REPO / "ci" / "tests" / "gates" / "fixtures" / "scan"
REGISTRY = "localhost:5000"
DATA_PY = (REPO / "app" / "src" / "gridserve" / "data.py").read_text()


def sources(function: str) -> dict[str, Any]:
    return repository_sources(function)


async def report_of(directory: dagger.Directory) -> tuple[dict[str, Any], str]:
    report = json.loads(await directory.file("report.json").contents())
    return report, await directory.file("summary.md").contents()


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def stages(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {stage["stage"]: stage for stage in report["stages"]}


def failed_exec(failure: pytest.ExceptionInfo[StageFailed]) -> dagger.ExecError:
    """The exec a stage's failed verdict is: what `dagger call -i` opens a shell in."""
    cause = failure.value.__cause__
    assert isinstance(cause, dagger.ExecError), f"no failed exec behind {failure.value!r}"
    assert cause.exit_code == 1, cause
    return cause


async def test_the_module_registers_with_the_engine(dagger_client: dagger.Client) -> None:
    module = default_module()
    # What the module runtime does at `dagger functions`: build the typedefs with the SDK's
    # own registration and hand them to the engine, which validates and keeps them.
    module._main_name = "Shipyard"
    module._main = module.get_object("Shipyard")
    module_id = await module._typedefs()
    registered = dagger_client.load_module_from_id(dagger.ModuleID(module_id))
    [main_object] = [
        typedef.as_object()
        for typedef in await registered.objects()
        if await typedef.as_object().name() == "Shipyard"
    ]
    functions = {await fn.name(): fn for fn in await main_object.functions()}
    ours = module.get_object(Shipyard.__name__).functions.values()
    assert set(functions) == {camel(fn.name) for fn in ours if fn.name}
    for name, fn in functions.items():
        assert await fn.description(), name
        for arg in await fn.args():
            assert await arg.description(), f"{name} {await arg.name()}"
    scan_args = {await arg.name(): arg for arg in await functions["scan"].args()}
    assert await scan_args["source"].default_path() == "/terraform"
    for release in ("plan", "deploy"):
        names = {await arg.name() for arg in await functions[release].args()}
        assert {"service", "container"} <= names, release


async def test_the_module_is_loaded_without_its_tests(dagger_client: dagger.Client) -> None:
    """dagger.json leaves ci/tests out of what the engine loads as the module: editing a test
    does not rebuild the module every `dagger call` runs (measured 18.6 s against 4.7 s)."""
    loaded = dagger_client.module_source(str(REPO)).context_directory()
    assert await loaded.entries() == ["ci/", "dagger.json"]
    module_files = await loaded.directory("ci").entries()
    assert "src/" in module_files
    assert "tests/" not in module_files


async def test_test_runs_the_service_suite_with_coverage(dagger_client: dagger.Client) -> None:
    shipyard = Shipyard()
    summary = await shipyard.test(**sources("test"))
    assert " passed in " in summary
    assert "coverage " in summary
    coverage = await (await shipyard.coverage(**sources("coverage"))).contents()
    assert "<coverage" in coverage
    assert "gridserve" in coverage


def app_tests_subset(source: dagger.Directory, files: Mapping[str, str]) -> dagger.Directory:
    """The app project with only a few quick test files of its own (and conftest.py), and the
    extra `files` under app/tests: a whole suite per case would take minutes on a shared engine."""
    tests = source.directory("app/tests")
    kept = dagger.dag.directory()
    for name in ("conftest.py", *QUICK_TEST_FILES):
        kept = kept.with_file(name, tests.file(name))
    for name, text in files.items():
        kept = kept.with_new_file(name, text)
    return source.without_directory("app/tests").with_directory("app/tests", kept)


QUICK_TEST_FILES = ("test_grid.py", "test_render.py", "test_tiling.py")  # 4 + 10 + 7 tests


async def test_a_failed_test_is_named_with_its_shard(dagger_client: dagger.Client) -> None:
    # Recorded times put test_grid.py alone in shard 1; the new file weighs the median (1 s)
    # and joins the other two in shard 2.
    durations = {"app/tests/test_grid.py": 5, "app/tests/test_render.py": 1}
    durations["app/tests/test_tiling.py"] = 1
    source = app_tests_subset(
        sources("test")["source"],
        {
            "durations.json": json.dumps(durations),
            "test_shard_failure.py": "def test_answer():\n    assert 41 == 42\n",
        },
    )
    with pytest.raises(StageFailed) as raised:
        await Shipyard().test(source, shards=2)
    lines = str(raised.value).splitlines()
    assert lines[0] == (
        "test: shard 2 of 2: FAILED app/tests/test_shard_failure.py::test_answer - assert 41 == 42"
    )
    assert lines[-1].startswith("1 failed, 21 passed in ")


async def test_a_dataset_that_cannot_be_generated_stops_the_stage_before_the_shards(
    dagger_client: dagger.Client,
) -> None:
    source = app_tests_subset(sources("test")["source"], {}).with_new_file(
        "app/src/gridserve/data.py", "raise SystemExit('no disk for the dataset')\n"
    )
    with pytest.raises(StageFailed) as raised:
        await Shipyard().test(source, shards=2)
    message = str(raised.value)
    assert message.startswith("test: the dataset could not be generated (exit 1): ")
    assert "no disk for the dataset" in message


async def test_a_change_outside_the_generator_reuses_the_generated_dataset(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    # coverage names its data file with a random suffix: the same name is the same step's result.
    source = sources("test")["source"].with_new_file("app/marker.txt", uuid.uuid4().hex)
    generated = []
    for changed in (source, source.with_new_file("app/src/gridserve/render.py", "# changed\n")):
        environment = await test_shards.environment_with_dataset(images, changed)
        generated.append(await environment.directory(test_shards.DATASET_COVERAGE).entries())
    regenerated = await test_shards.environment_with_dataset(
        images, source.with_new_file("app/src/gridserve/data.py", "# changed\n" + DATA_PY)
    )
    assert generated[0] == generated[1]
    assert await regenerated.directory(test_shards.DATASET_COVERAGE).entries() != generated[0]


async def test_shards_combine_into_the_coverage_of_one_run(dagger_client: dagger.Client) -> None:
    shipyard = Shipyard()
    source = app_tests_subset(sources("test")["source"], {})
    one = await shipyard.test(source, shards=1)
    two = await shipyard.test(source, shards=2)
    assert one.startswith("21 passed in ")
    assert two.startswith("21 passed in ")
    assert one.rpartition("; coverage ")[2] == two.rpartition("; coverage ")[2]
    xml = await (await shipyard.coverage(source, shards=2)).contents()
    assert 'gridserve/render.py"' in xml
    assert 'gridserve/tiling.py"' in xml


# Each shard's one test notes when it ran in the shard's own coverage folder.
NOTE_WHEN_IT_RAN = """import os, pathlib, time

def test_note_when_it_ran():
    started = time.time()
    time.sleep(4)
    folder = pathlib.Path(os.environ["COVERAGE_FILE"]).parent
    (folder / "ran").write_text(f"{started} {time.time()}")
"""


async def test_the_shards_run_side_by_side(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    # Only the two noting files, so that each is a shard: one after another, their four
    # seconds could not overlap (before the shards were started together, they did not).
    source = (
        sources("test")["source"]
        .without_directory("app/tests")
        .with_directory(
            "app/tests",
            dagger.dag.directory()
            .with_new_file("test_side_a.py", NOTE_WHEN_IT_RAN)
            .with_new_file("test_side_b.py", NOTE_WHEN_IT_RAN)
            .with_new_file("marker.txt", uuid.uuid4().hex),
        )
    )
    run = await test_shards.tested(images, source, 2)
    assert [shard.files for shard, _ in run.shards] == [
        ("app/tests/test_side_a.py",),
        ("app/tests/test_side_b.py",),
    ]
    spans = []
    for shard, container in run.shards:
        noted = container.file(f"{test_shards.coverage_folder(shard)}/ran")
        started, ended = map(float, (await noted.contents()).split())
        spans.append((started, ended))
    (first_start, first_end), (second_start, second_end) = spans
    assert first_start < second_end, spans
    assert second_start < first_end, spans
    assert (await run.verdicts()).passed


async def test_lint_passes_on_the_repository_and_catches_a_violation(
    dagger_client: dagger.Client,
) -> None:
    shipyard = Shipyard()
    project = sources("lint")["source"]
    await shipyard.lint(project)
    broken = project.with_new_file("app/src/gridserve/unused.py", "import os\n")
    with pytest.raises(dagger.ExecError) as raised:
        await shipyard.lint(broken)
    assert "F401" in raised.value.stdout
    assert "app/src/gridserve/unused.py" in raised.value.stdout


async def test_build_makes_a_linux_amd64_image_of_the_service(
    dagger_client: dagger.Client,
) -> None:
    image = Shipyard().build(**sources("build"))
    assert await image.platform() == "linux/amd64"
    version = await image.with_exec(
        ["python3", "-c", "import gridserve; print(gridserve.__name__)"]
    ).stdout()
    assert version.strip() == "gridserve"


async def test_serve_answers_the_smoke_suite(dagger_client: dagger.Client) -> None:
    shipyard = Shipyard()
    service = shipyard.serve(**sources("serve"))
    summary = await shipyard.smoke(ci=sources("smoke")["ci"], service=service, deadline=60.0)
    assert "health" in summary
    assert "✅ pass" in summary
    assert "❌" not in summary


async def test_smoke_fails_against_a_service_that_answers_wrong(
    dagger_client: dagger.Client,
) -> None:
    shipyard = Shipyard()
    broken = (
        shipyard.build(**sources("build"))
        .with_env_variable("GRIDSERVE_MAX_TIMESERIES_DAYS", "1")
        .with_exposed_port(8080)
        .as_service(use_entrypoint=True)
    )
    with pytest.raises(StageFailed, match="timeseries") as failed:
        await shipyard.smoke(ci=sources("smoke")["ci"], service=broken, deadline=10.0)
    assert "❌" in failed_exec(failed).stdout
    assert str(failed.value).startswith("smoke: failed (exit 1); the checks marked ❌ below")


async def test_scan_passes_the_infrastructure_and_blocks_a_critical_finding(
    dagger_client: dagger.Client,
) -> None:
    shipyard = Shipyard()
    given = sources("scan")
    assert "checkov gate" in await shipyard.scan(**given)
    fixture = dagger_client.host().directory(str(SCAN_FIXTURE))
    with pytest.raises(StageFailed, match="BLOCKED") as failed:
        await shipyard.scan(source=fixture, ci=given["ci"])
    assert "BLOCKED" in failed_exec(failed).stdout
    headline = str(failed.value).splitlines()[0]
    assert headline.startswith("scan: blocked by checkov findings"), headline
    assert "ci/policies/waivers.yml" in headline


async def test_docs_check_passes_and_docs_regenerate_a_drifted_readme(
    dagger_client: dagger.Client,
) -> None:
    shipyard = Shipyard()
    given = sources("docs-check")
    assert "in sync" in await shipyard.docs_check(**given)
    readme = "terraform/modules/ecr/README.md"
    original = await given["source"].file(readme).contents()
    begin, _, rest = original.partition("<!-- BEGIN_TF_DOCS -->")
    _, _, end = rest.partition("<!-- END_TF_DOCS -->")
    drifted = given["source"].with_new_file(
        readme, f"{begin}<!-- BEGIN_TF_DOCS -->\nstale\n<!-- END_TF_DOCS -->{end}"
    )
    with pytest.raises(StageFailed, match="ecr") as failed:
        await shipyard.docs_check(source=drifted, ci=given["ci"])
    assert readme.removeprefix("terraform/") in failed_exec(failed).stdout
    assert str(failed.value).startswith(
        "docs-check: drifted (exit 1); run `dagger call docs export --path .`"
    )
    changes = await shipyard.docs(source=drifted, ci=given["ci"])
    assert await changes.modified_paths() == [readme]
    assert await changes.after().file(readme).contents() == original


async def test_publish_pushes_sha_and_latest_and_returns_the_digest(
    dagger_client: dagger.Client,
) -> None:
    repository = f"{REGISTRY}/shipyard-test/gridserve"
    git_sha = uuid.uuid4().hex[:12]
    address = await Shipyard().publish(**sources("publish"), repository=repository, git_sha=git_sha)
    assert address.startswith(f"{repository}@sha256:")
    pulled = dagger_client.container().from_(f"{repository}:{git_sha}")
    latest = dagger_client.container().from_(f"{repository}:latest")
    assert await pulled.platform() == "linux/amd64"
    assert await pulled.id() == await latest.id()


async def test_pipeline_for_a_pull_request_reports_every_check(
    dagger_client: dagger.Client,
) -> None:
    directory = await Shipyard().run_pipeline(
        event="pull_request",
        ref="refs/pull/7/merge",
        git_sha="0123456789abcdef0123456789abcdef01234567",
        **sources("run-pipeline"),
    )
    report, summary = await report_of(directory)
    by_stage = stages(report)
    assert report["flow"] == "checks"
    assert list(by_stage) == [
        "test",
        "lint",
        "scan",
        "docs-check",
        "coverage-upload",
        "cost",
        "notify",
    ]
    # Without their secrets the informational stages say so in one line and block nothing.
    assert by_stage["coverage-upload"]["summary"] == "skipped: no CODECOV_TOKEN"
    assert all(by_stage[s]["verdict"] in ("passed", "failed") for s in list(by_stage)[:4])
    assert by_stage["test"]["verdict"] == "passed", summary
    failed = [name for name, stage in by_stage.items() if stage["verdict"] == "failed"]
    assert report["verdict"] == ("failed" if failed else "passed")
    for name in by_stage:
        assert f"| {name} |" in summary


WEBHOOK_RECEIVER = """
import http.server
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200 if self.path.startswith("/ok/") else 500)
        self.end_headers()
http.server.HTTPServer(("0.0.0.0", 8080), Receiver).serve_forever()
"""


@pytest.mark.parametrize(("path", "delivered"), [("ok", True), ("fail", False)])
async def test_notify_delivers_and_never_shows_the_webhook(
    dagger_client: dagger.Client, path: str, delivered: bool
) -> None:
    """Called alone, a message not delivered is a failed exec naming the webhook's answer."""
    receiver = (
        dagger_client.container()
        .from_(ImageCatalog.from_settings().reference("PYTHON"))
        .with_exposed_port(8080)
        .as_service(args=["python3", "-c", WEBHOOK_RECEIVER])
    )
    hostname = await receiver.hostname()
    secret_path = f"{path}/T000/B000/{uuid.uuid4().hex}"
    webhook = dagger_client.set_secret("webhook", f"http://{hostname}:8080/{secret_path}")
    notify = Shipyard().notify(
        ci=sources("notify")["ci"],
        webhook=webhook,
        stage="deploy",
        verdict="failed",
        git_sha="abc1234",
        environment="staging",
        summary="tiles: circuit breaker",
    )
    await receiver.start()
    try:
        if delivered:
            said = await notify
        else:
            with pytest.raises(StageFailed) as failed:
                await notify
            said = str(failed.value)
            assert "webhook answered HTTP 500" in failed_exec(failed).stdout
    finally:
        await receiver.stop()
    assert said == "sent" if delivered else said.startswith("notify: not delivered (exit 1)")
    assert secret_path.rsplit("/", 1)[-1] not in said
