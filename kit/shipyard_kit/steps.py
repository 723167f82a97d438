"""The provisioning steps, each skipped when its inputs match the stamp of its last run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from shipyard_kit.digests import Stamps, content_digest, digest, file_digest, tree_digest
from shipyard_kit.gomod import wrapper_go_mod
from shipyard_kit.images import (
    ImageRecipe,
    debian_mirror,
    engine_json,
    image_config,
    image_recipes,
    images_env,
    python_runtime_settings,
    slim_dpkg_config,
    slim_excludes,
    wheel_script,
)
from shipyard_kit.pins import engine_version, image_tags, uv_version
from shipyard_kit.schedule import Step, run_steps
from shipyard_kit.sdk import (
    deterministic_tar_gz,
    oci_image_blobs,
    sdk_lock_version,
    vendor_python_sdk,
)
from shipyard_kit.settings import (
    APT_LEFTOVERS,
    BASE_PACKAGES,
    BESIDE_GO,
    BUILTIN_CONTENT,
    CNI_PLUGINS,
    DAGGER_MODULE,
    ENGINE_BINARIES,
    ENGINE_CONTAINER,
    ENGINE_CUSTOM_CA_FOLDER,
    ENGINE_PACKAGES,
    ENGINE_RUN_FLAGS,
    ENGINE_STOP_SECONDS,
    ENGINE_VOLUME,
    KIT,
    LOCK_IN_ROOTFS,
    PYTHON_RUNTIME,
    PYTHON_SDK_DIGEST_ENV,
    REGISTRY_LISTEN,
    REPO,
    SDK_LOCK,
    SLIM_DPKG_CONFIG,
    STATE,
    SUITE,
    TIMINGS,
    UNSUMMED_MODULES,
    UV_IN_ROOTFS,
    KitError,
    step_workers,
)
from shipyard_kit.shell import (
    deb_installed,
    http_ok,
    link,
    output,
    pip_download,
    push_image,
    registry_digest,
    report_step,
    run,
    say,
    succeeds,
    wait_for,
)


def rootfs_tar(rootfs: Path, archive: str) -> list[str]:
    """tar of a root filesystem as an image layer (without the kernel's mount points), into
    `archive` ("-": standard output), yielding the CPU to the Go compilation."""
    return [
        *BESIDE_GO,
        "tar",
        "-C",
        str(rootfs),
        "--exclude=./.complete",
        "--exclude=./proc/*",
        "--exclude=./sys/*",
        "--exclude=./dev/*",
        "-c",
        "-f",
        archive,
        ".",
    ]


class Provisioner:
    def __init__(self) -> None:
        self.stamps = Stamps()
        self.version = engine_version((REPO / "dagger.json").read_text())
        self.bin = STATE / "bin"
        self.apt_updated = False
        self._locks_guard = threading.Lock()
        self._rootfs_locks: dict[str, threading.Lock] = {}
        self._uv_guard = threading.Lock()
        self.engine_inputs = ""

    # -- host packages and daemons

    def apt_install(self, packages: Sequence[str]) -> None:
        missing = [p for p in packages if not deb_installed(p)]
        if not missing:
            return
        if not self.apt_updated:
            say("apt-get update")
            run(["apt-get", "update", "-qq"])
            self.apt_updated = True
        say(f"apt-get install {' '.join(missing)}")
        run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            env={"DEBIAN_FRONTEND": "noninteractive"},
        )

    def host(self) -> None:
        """The machine first, before anything else starts: packages, dockerd, the registry."""
        self.host_packages()
        self.docker_daemon()

    def host_packages(self) -> None:
        self.apt_install(["docker.io", "debootstrap", "docker-registry"])

    def docker_daemon(self) -> None:
        if succeeds(["docker", "info"]):
            say("  dockerd already answers")
        else:
            log = STATE / "dockerd.log"
            STATE.mkdir(parents=True, exist_ok=True)
            say(f"  starting /usr/sbin/dockerd (log {log})")
            self._spawn(["/usr/sbin/dockerd"], log)
            wait_for("dockerd", lambda: succeeds(["docker", "info"]), 90, log)
        if http_ok(f"http://{REGISTRY_LISTEN}/v2/"):
            say(f"  registry already answers on {REGISTRY_LISTEN}")
            return
        storage = STATE / "registry"
        storage.mkdir(parents=True, exist_ok=True)
        config = STATE / "registry.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: '{REGISTRY_LISTEN}'}}\n"
        )
        log = STATE / "registry.log"
        say(f"  starting docker-registry on {REGISTRY_LISTEN} (log {log})")
        self._spawn(["/usr/bin/docker-registry", "serve", str(config)], log)
        wait_for("docker-registry", lambda: http_ok(f"http://{REGISTRY_LISTEN}/v2/"), 30, log)

    @staticmethod
    def _spawn(args: Sequence[str], log: Path) -> None:
        with log.open("ab") as sink:
            subprocess.Popen(
                list(args),
                stdout=sink,
                stderr=sink,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    # -- Go builds

    def go_env(self) -> dict[str, str]:
        return {
            "CGO_ENABLED": "0",
            "GOFLAGS": "-mod=mod",
            "GONOSUMDB": UNSUMMED_MODULES,
            "GOWORK": "off",
        }

    def dagger_binaries(self) -> None:
        if not shutil.which("go"):
            raise KitError("no Go toolchain on PATH; install Go >= 1.26 (dagger's go.mod needs it)")
        gomod = STATE / "gomod"
        kit_gomod = KIT / "gomod"
        inputs = digest(self.version, tree_digest(kit_gomod), output(["go", "version"]))
        names = ("dagger", *ENGINE_BINARIES)
        if self.stamps.matches("binaries", inputs) and all((self.bin / n).exists() for n in names):
            say("  dagger binaries up to date (cached)")
            return
        with tempfile.TemporaryDirectory() as empty:
            info = json.loads(
                output(
                    ["go", "mod", "download", "-json", f"{DAGGER_MODULE}@{self.version}"],
                    cwd=Path(empty),
                    env=self.go_env(),
                )
            )
        upstream = Path(info["GoMod"]).read_text()
        if gomod.exists():
            shutil.rmtree(gomod)
        shutil.copytree(kit_gomod, gomod, ignore=shutil.ignore_patterns("patches"))
        self.patched_dagger_source(Path(info["Dir"]), gomod / "dagger-src")
        replacements = {
            DAGGER_MODULE: "./dagger-src",
            f"{DAGGER_MODULE}/engine/distconsts": "./distconsts",
            "github.com/vito/midterm": "./shims/midterm",
            "github.com/vito/tuist": "./shims/tuist",
            "github.com/vito/tuist/teav1": "./shims/tuist-teav1",
        }
        (gomod / "go.mod").write_text(wrapper_go_mod(upstream, self.version, replacements))
        ldflags = (
            f"-s -w -X {DAGGER_MODULE}/engine.Version={self.version}"
            f" -X {DAGGER_MODULE}/engine.Tag={self.version}"
        )
        self.bin.mkdir(parents=True, exist_ok=True)
        for name, package, tags in (
            ("dagger", "cmd/dagger", ""),
            ("dagger-engine", "cmd/engine", "dfexcludepatterns,dfparents"),
            ("dagger-init", "cmd/init", ""),
            ("dial-stdio", "cmd/dialstdio", ""),
            ("dnsname", "cmd/dnsname", ""),
        ):
            started = time.monotonic()
            say(f"  go build {package} -> {self.bin / name}")
            run(
                [
                    "go",
                    "build",
                    "-trimpath",
                    "-tags",
                    tags,
                    "-ldflags",
                    ldflags,
                    "-o",
                    str(self.bin / name),
                    f"{DAGGER_MODULE}/{package}",
                ],
                cwd=gomod,
                env=self.go_env(),
            )
            say(f"    {time.monotonic() - started:.0f}s")
        self.stamps.record("binaries", inputs)

    @staticmethod
    def patched_dagger_source(source: Path, target: Path) -> None:
        """Dagger's module with the Dang v2 SDK stubbed (its interpreter cannot be fetched).

        `go build -overlay` refuses files in the module cache, so the module is copied.
        """
        shutil.copytree(source, target)
        run(["chmod", "-R", "u+w", str(target)])
        dang_v2 = target / "core/sdk/dang/v2"
        for go_file in dang_v2.glob("*.go"):
            go_file.unlink()
        shutil.copy2(KIT / "gomod/patches/dangv2_sdk.go", dang_v2 / "sdk.go")

    def terraform_docs(self, version: str) -> None:
        module = "github.com/terraform-docs/terraform-docs"
        inputs = digest(version, output(["go", "version"]))
        target = self.bin / "terraform-docs"
        if self.stamps.matches("terraform-docs", inputs) and target.exists():
            return
        say(f"  go build {module}@v{version}")
        with tempfile.TemporaryDirectory() as empty:
            info = json.loads(
                output(
                    ["go", "mod", "download", "-json", f"{module}@v{version}"],
                    cwd=Path(empty),
                    env={"GOWORK": "off"},
                )
            )
        run(
            ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(target), "."],
            cwd=Path(info["Dir"]),
            env={"CGO_ENABLED": "0", "GOWORK": "off", "GOFLAGS": ""},
        )
        self.stamps.record("terraform-docs", inputs)

    # -- root filesystems

    def base_inputs(self) -> str:
        return digest(SUITE, *BASE_PACKAGES, self.mirror())

    def base_rootfs(self) -> Path:
        """Debian's minbase with BASE_PACKAGES and this machine's CAs, debootstrapped once."""
        inputs = self.base_inputs()
        target = STATE / "rootfs" / f"base-{inputs}"
        with self.rootfs_lock(target.name):
            if (target / ".complete").exists():
                return target
            self.clear(target)
            say(f"  debootstrap {SUITE} minbase + {', '.join(BASE_PACKAGES)} (the shared base)")
            run(
                [
                    *BESIDE_GO,
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(BASE_PACKAGES)}",
                    f"--cache-dir={self.deb_cache()}",
                    SUITE,
                    str(target),
                    self.mirror(),
                ],
                env={"DEBIAN_FRONTEND": "noninteractive"},
                capture=True,
            )
            self.trust_host_cas(target)
            (target / ".complete").write_text(inputs)
            return target

    def rootfs_target(self, packages: Sequence[str], slim: bool = False) -> Path:
        """Where the root filesystem with `packages` lives: named by everything it is built from."""
        slim_config = [slim_dpkg_config()] if slim else []
        return (
            STATE
            / "rootfs"
            / digest(self.base_inputs(), *sorted(packages), *slim_config, *APT_LEFTOVERS)
        )

    def rootfs(self, packages: Sequence[str], slim: bool = False) -> Path:
        """The shared base plus `packages` (apt in a chroot), cached by its inputs.

        Images with the same packages share one. `slim` removes what SLIM_DPKG_FILTER excludes
        and installs that filter.
        """
        target = self.rootfs_target(packages, slim)
        with self.rootfs_lock(target.name):
            if (target / ".complete").exists():
                return target
            base = self.base_rootfs()
            extra = [p for p in packages if p not in BASE_PACKAGES]
            say(f"  root filesystem: the base + {', '.join(extra)}")
            self.copy_tree(base, target)
            self.apt_install_into(target, extra)
            for junk in APT_LEFTOVERS:
                for item in (target / junk).glob("*"):
                    if item.is_file():
                        item.unlink()
            if slim:
                self.slim_down(target)
            (target / ".complete").write_text(target.name)
            return target

    def rootfs_lock(self, name: str) -> threading.Lock:
        """One lock per root filesystem: steps that need the same one wait for one build."""
        with self._locks_guard:
            return self._rootfs_locks.setdefault(name, threading.Lock())

    def apt_install_into(self, rootfs: Path, packages: Sequence[str]) -> None:
        """apt-get in a chroot, from the base's package lists, sharing the kit's .deb cache."""
        archives = rootfs / "var/cache/apt/archives"
        cache = self.deb_cache()
        for deb in cache.glob("*.deb"):
            link(deb, archives / deb.name)
        shutil.copy2("/etc/resolv.conf", rootfs / "etc/resolv.conf")
        run(
            [
                *BESIDE_GO,
                "chroot",
                str(rootfs),
                "apt-get",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                *packages,
            ],
            env={"DEBIAN_FRONTEND": "noninteractive"},
            capture=True,
        )
        for deb in archives.glob("*.deb"):
            link(deb, cache / deb.name)

    @staticmethod
    def deb_cache() -> Path:
        cache = STATE / "debs"
        cache.mkdir(parents=True, exist_ok=True)
        return cache

    @staticmethod
    def clear(target: Path) -> None:
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def slim_down(rootfs: Path) -> None:
        removed = 0
        for directory, subdirectories, files in os.walk(rootfs / "usr/share", topdown=False):
            inside = "/" + str(Path(directory).relative_to(rootfs))
            for name in files:  # symbolic links to directories included: walk does not follow
                if slim_excludes(f"{inside}/{name}"):
                    removed += (Path(directory) / name).lstat().st_size
                    (Path(directory) / name).unlink()
            for name in subdirectories:
                path = Path(directory) / name
                if path.is_symlink():
                    if slim_excludes(f"{inside}/{name}"):
                        path.unlink()
                elif not any(path.iterdir()) and slim_excludes(f"{inside}/{name}"):
                    path.rmdir()
        (rootfs / SLIM_DPKG_CONFIG).write_text(slim_dpkg_config())
        say(f"    slim: {removed / 1e6:.1f} MB of documentation and translations removed")

    def mirror(self) -> str:
        sources = [p.read_text() for p in Path("/etc/apt").glob("sources.list*") if p.is_file()]
        sources += [p.read_text() for p in Path("/etc/apt/sources.list.d").glob("*.sources")]
        sources += [p.read_text() for p in Path("/etc/apt/sources.list.d").glob("*.list")]
        return debian_mirror(sources)

    @staticmethod
    def trust_host_cas(rootfs: Path) -> None:
        """The machine reaches PyPI and Debian through a TLS-inspecting path: trust its CAs."""
        target = rootfs / "usr/local/share/ca-certificates"
        target.mkdir(parents=True, exist_ok=True)
        for cert in Path("/usr/local/share/ca-certificates").rglob("*.crt"):
            shutil.copy2(cert, target / cert.name)
        if (rootfs / "usr/sbin/update-ca-certificates").exists():
            run(["chroot", str(rootfs), "update-ca-certificates", "--fresh"], capture=True)

    def copy_tree(self, source: Path, target: Path) -> None:
        self.clear(target)
        run([*BESIDE_GO, "cp", "-a", str(source), str(target)])

    @staticmethod
    def import_rootfs(rootfs: Path, reference: str, changes: Sequence[str]) -> None:
        """`rootfs` as an image in the machine's dockerd, which runs the engine container."""
        tar = subprocess.Popen(rootfs_tar(rootfs, "-"), stdout=subprocess.PIPE)
        args = ["docker", "import"]
        for change in changes:
            args += ["--change", change]
        result = subprocess.run(
            [*args, "-", reference], stdin=tar.stdout, capture_output=True, check=False
        )
        tar.wait()
        if result.returncode != 0 or tar.returncode != 0:
            raise KitError(f"docker import {reference} failed: {result.stderr.decode()[-1000:]}")

    @staticmethod
    def push_rootfs(rootfs: Path, reference: str, changes: Sequence[str]) -> None:
        """`rootfs` as a one-layer image straight into the registry, its layer an uncompressed
        tar (images.DOCKER says why). tar runs under `nice`: `docker import` and `docker push`
        worked in dockerd, beside Go at its priority, and kept an unused copy of every image."""
        scratch_root = STATE / "work"
        scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch_root) as scratch:
            layer = Path(scratch) / "layer.tar"
            run(rootfs_tar(rootfs, str(layer)))
            diff_id = content_digest(layer)
            push_image(reference, layer, diff_id, image_config(changes, diff_id))

    # -- the engine

    def engine_image_inputs(self) -> str:
        return digest(
            self.rootfs_target(ENGINE_PACKAGES).name,
            *(file_digest(self.bin / n) for n in ENGINE_BINARIES),
            engine_json(),
            repr(ENGINE_RUN_FLAGS),
            f"empty {ENGINE_CUSTOM_CA_FOLDER}",
            self.python_sdk_inputs(),
        )

    def engine_image_current(self, inputs: str) -> bool:
        return self.stamps.matches("engine-image", inputs) and succeeds(
            ["docker", "image", "inspect", self.engine_reference()]
        )

    def engine_reference(self) -> str:
        return f"shipyard-kit/dagger-engine:{self.version}"

    def engine_rootfs(self) -> None:
        """The engine's root filesystem, built while Go compiles unless the image is current."""
        built = all((self.bin / n).exists() for n in ENGINE_BINARIES)
        if not (built and self.engine_image_current(self.engine_image_inputs())):
            self.rootfs(ENGINE_PACKAGES)

    def engine_image(self) -> None:
        reference = self.engine_reference()
        inputs = self.engine_inputs = self.engine_image_inputs()
        if self.engine_image_current(inputs):
            say(f"  {reference} up to date (cached)")
            return
        base = self.rootfs(ENGINE_PACKAGES)
        work = STATE / "work" / "engine"
        self.copy_tree(base, work)
        # update-ca-certificates reads subfolders too, so the whole folder goes, not its files.
        shutil.rmtree(work / ENGINE_CUSTOM_CA_FOLDER)
        (work / ENGINE_CUSTOM_CA_FOLDER).mkdir()
        local = work / "usr/local/bin"
        local.mkdir(parents=True, exist_ok=True)
        for name in ("dagger-engine", "dagger-init", "dial-stdio"):
            shutil.copy2(self.bin / name, local / name)
        (local / "buildctl").symlink_to("dial-stdio")  # `container://` dials `buildctl dial-stdio`
        (local / "runc").symlink_to("/usr/sbin/runc")
        cni = work / "opt/cni/bin"
        cni.mkdir(parents=True, exist_ok=True)
        for plugin in CNI_PLUGINS:
            shutil.copy2(work / "usr/lib/cni" / plugin, cni / plugin)
        shutil.copy2(self.bin / "dnsname", cni / "dnsname")
        for backend in ("xtables-legacy-multi", "xtables-nft-multi"):
            link = work / "usr/bin" / backend
            if not link.exists():
                link.symlink_to(f"/usr/sbin/{backend}")
        (work / "etc/dagger").mkdir(parents=True, exist_ok=True)
        (work / "etc/dagger/engine.json").write_text(engine_json())
        python_sdk = self.python_sdk_image(work / BUILTIN_CONTENT)
        say(f"  docker import -> {reference}")
        self.import_rootfs(
            work,
            reference,
            (
                'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/dagger-engine"]',
                "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"ENV {PYTHON_SDK_DIGEST_ENV}={python_sdk}",
                f"LABEL shipyard.kit.inputs={inputs}",
            ),
        )
        shutil.rmtree(work)
        self.stamps.record("engine-image", inputs)

    def python_sdk_inputs(self) -> str:
        recipes = image_recipes(image_tags(), uv_version())
        return digest(tree_digest(PYTHON_RUNTIME), python_runtime_settings(recipes, uv_version()))

    def python_sdk_image(self, content: Path) -> str:
        """The Python SDK runtime as an OCI image in the engine's builtin content store.

        Its root: runtime/ (the Dang module the engine loads for `sdk: python`), its helpers,
        kit.json, and sdk/ (PyPI's dagger-io, vendored as dagger's runtime vendors it).
        Returns the manifest digest, which the engine finds in PYTHON_SDK_DIGEST_ENV.
        """
        lock = SDK_LOCK.read_text()
        if sdk_lock_version(lock) != self.version.removeprefix("v"):
            raise KitError(
                f"{SDK_LOCK.relative_to(REPO)} pins dagger-io=="
                f"{sdk_lock_version(lock)} but the engine is {self.version}; pin "
                f"dagger-io=={self.version.removeprefix('v')} with its sdist's hash"
            )
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch) / "root"
            self.assemble_python_sdk(root, lock, Path(scratch))
            layer, diff_id = deterministic_tar_gz(root)
        manifest, blobs = oci_image_blobs(layer, diff_id)
        store = content / "blobs" / "sha256"
        store.mkdir(parents=True, exist_ok=True)
        for blob_digest, data in blobs.items():
            (store / blob_digest.removeprefix("sha256:")).write_bytes(data)
        say(f"  python SDK runtime image {manifest}")
        return manifest

    def assemble_python_sdk(self, root: Path, lock: str, scratch: Path) -> None:
        vendor_python_sdk(root / "sdk", lock, scratch)
        shutil.copytree(
            PYTHON_RUNTIME / "runtime",
            root / "runtime",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        for helper in ("discover.py", "entrypoint.py"):
            shutil.copy2(PYTHON_RUNTIME / helper, root / helper)
        recipes = image_recipes(image_tags(), uv_version())
        (root / "kit.json").write_text(python_runtime_settings(recipes, uv_version()))

    def engine_container(self) -> None:
        reference = self.engine_reference()
        current = output(
            [
                "docker",
                "inspect",
                "-f",
                '{{index .Config.Labels "shipyard.kit.inputs"}} {{.State.Running}}',
                ENGINE_CONTAINER,
            ],
            check=False,
        )
        if current == f"{self.engine_inputs} true":
            say("  already running with the current image")
        else:
            if current:
                say("  replacing the old engine container")
                remove_engine_container(check=True)
            run(
                [
                    "docker",
                    "run",
                    "-d",
                    "--name",
                    ENGINE_CONTAINER,
                    "--restart",
                    "unless-stopped",
                    *ENGINE_RUN_FLAGS,
                    "-v",
                    f"{ENGINE_VOLUME}:/var/lib/dagger",
                    reference,
                    "--debug",
                ],
                capture=True,
            )
        env = self.client_env()
        wait_for(
            "the engine (dagger core version)",
            lambda: (
                subprocess.run(
                    [env["_EXPERIMENTAL_DAGGER_CLI_BIN"], "core", "version"],
                    env={**os.environ, **env},
                    capture_output=True,
                    timeout=120,
                    check=False,
                ).returncode
                == 0
            ),
            180,
            None,
        )
        say("  engine answers")

    # -- pipeline images

    def pipeline_image(self, recipe: ImageRecipe) -> None:
        extra = "".join(file_digest(self.bin / b) for b in recipe.go_binaries)
        rootfs = self.rootfs_target(recipe.packages, recipe.slim).name
        installer = [f"uv {uv_version()}"] if recipe.installs_python_packages else []
        inputs = recipe.inputs(digest(self.mirror(), extra, rootfs, *installer))
        step = "image-" + recipe.name.lower()
        if self.stamps.matches(step, inputs) and registry_digest(recipe.reference):
            say(f"  {recipe.reference} up to date (cached)")
            return
        base = self.rootfs(recipe.packages, recipe.slim)
        work = STATE / "work" / recipe.name.lower()
        self.copy_tree(base, work)
        if recipe.installs_python_packages:
            self.uv_install(work, recipe)
        for binary in recipe.go_binaries:
            shutil.copy2(self.bin / binary, work / "usr/local/bin" / binary)
        self.push_rootfs(
            work, recipe.reference, (*recipe.changes, f"LABEL shipyard.kit.inputs={inputs}")
        )
        shutil.rmtree(work)
        self.stamps.record(step, inputs)

    def uv(self) -> Path:
        """The pinned uv, taken from its PyPI wheel once: it installs the images' Python packages
        (parallel downloads; pip's one at a time were the tail of a cold start)."""
        target = self.bin / "uv"
        version = uv_version()
        with self._uv_guard:
            if self.stamps.matches("uv", version) and target.exists():
                return target
            say(f"  pip download uv=={version} (its wheel carries the binary)")
            with tempfile.TemporaryDirectory() as scratch:
                pip_download(["--only-binary=:all:", f"uv=={version}"], Path(scratch))
                [wheel] = Path(scratch).glob("uv-*.whl")
                self.bin.mkdir(parents=True, exist_ok=True)
                target.write_bytes(wheel_script(wheel, "uv"))
                target.chmod(0o755)
            self.stamps.record("uv", version)
            return target

    def uv_install(self, rootfs: Path, recipe: ImageRecipe) -> None:
        """The recipe's packages into the image's system Python, byte-compiled as pip does."""
        shutil.copy2(self.uv(), rootfs / UV_IN_ROOTFS.lstrip("/"))
        shutil.copy2("/etc/resolv.conf", rootfs / "etc/resolv.conf")
        args = [
            *BESIDE_GO,
            "chroot",
            str(rootfs),
            "env",
            "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            "HOME=/root",
            UV_IN_ROOTFS,
            "pip",
            "install",
            "--quiet",
            "--no-cache",
            "--python",
            "/usr/bin/python3",
            "--system",
            "--break-system-packages",
            "--compile-bytecode",
        ]
        if recipe.pip_lock:
            shutil.copy2(REPO / recipe.pip_lock, rootfs / LOCK_IN_ROOTFS.lstrip("/"))
            args += ["--require-hashes", "-r", LOCK_IN_ROOTFS]
        args += list(recipe.pip)
        say(f"    uv pip install {' '.join(recipe.pip) or recipe.pip_lock}")
        # The host's pip and uv settings (a local wheel directory) must not leak into the image.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
        result = subprocess.run(args, env=env, stdout=sys.stderr, stderr=sys.stderr, check=False)
        for leftover in (LOCK_IN_ROOTFS, UV_IN_ROOTFS):
            (rootfs / leftover.lstrip("/")).unlink(missing_ok=True)
        if result.returncode != 0:
            raise KitError(f"uv pip install for {recipe.reference} failed; see the output above")

    # -- entry points

    def client_env(self) -> dict[str, str]:
        images = KIT / "images.env"
        images_text = images.read_text() if images.exists() else ""
        return {
            "_EXPERIMENTAL_DAGGER_RUNNER_HOST": f"docker-container://{ENGINE_CONTAINER}",
            "_EXPERIMENTAL_DAGGER_CLI_BIN": str(self.bin / "dagger"),
            "SHIPYARD_IMAGES": str(KIT / "images.env"),
            # The same lines as text: the repository's .env hands them to `dagger call` as the
            # module's image overrides (dagger's user defaults), so README lines run verbatim.
            "SHIPYARD_KIT_IMAGE_OVERRIDES": images_text,
            # No telemetry endpoint is reachable here; the CLI would otherwise keep retrying.
            "DO_NOT_TRACK": "1",
            # Nor is dagger.cloud: no "Setup tracing at https://dagger.cloud" nag on every call.
            "DAGGER_NO_NAG": "1",
        }

    def steps(self, recipes: Sequence[ImageRecipe]) -> list[Step]:
        """What provisioning runs and what each step waits for; independent steps overlap.

        Ready steps start in the order listed, so the engine's path goes first: its root
        filesystem beside the Go compilation, its image and container as soon as Go is done.
        Then terraform-docs's compilation (an image waits on it), the images with pip installs
        (the longest after Go) and the other images.
        """
        versions = image_tags()
        images = [
            Step(
                f"image {recipe.reference}",
                partial(self.pipeline_image, recipe),
                ("host", *(("terraform-docs",) if recipe.go_binaries else ())),
            )
            for recipe in sorted(recipes, key=lambda r: not r.installs_python_packages)
        ]
        return [
            Step("host", self.host),
            Step("dagger binaries", self.dagger_binaries, ("host",)),
            Step("engine root filesystem", self.engine_rootfs, ("host",)),
            Step(
                "engine image",
                self.engine_image,
                ("dagger binaries", "engine root filesystem"),
            ),
            Step("engine container", self.engine_container, ("engine image",)),
            Step(
                "terraform-docs",
                partial(self.terraform_docs, versions["TERRAFORM_DOCS"]),
                ("dagger binaries",),
            ),
            *images,
        ]

    def up(self) -> None:
        started = time.monotonic()
        recipes = image_recipes(image_tags(), uv_version())
        workers = step_workers(os.environ)
        seconds = run_steps(self.steps(recipes), workers=workers, report=report_step)
        (KIT / "images.env").write_text(images_env(recipes, pushed_digests(recipes)))
        total = time.monotonic() - started
        TIMINGS.write_text(json.dumps({"total": total, "steps": seconds}, indent=2) + "\n")
        say(f"ready in {total:.1f}s")

    def status(self) -> int:
        healthy = True
        checks = {
            "dockerd": succeeds(["docker", "info"]),
            f"registry {REGISTRY_LISTEN}": http_ok(f"http://{REGISTRY_LISTEN}/v2/"),
            f"engine container {ENGINE_CONTAINER}": output(
                ["docker", "inspect", "-f", "{{.State.Running}}", ENGINE_CONTAINER], check=False
            )
            == "true",
            "dagger CLI": (self.bin / "dagger").exists(),
        }
        for what, ok in checks.items():
            print(f"{'ok  ' if ok else 'DOWN'} {what}")
            healthy &= ok
        return 0 if healthy else 1

    def down(self) -> None:
        if succeeds(["docker", "info"]):
            say(f"removing container {ENGINE_CONTAINER} (its cache volume is kept)")
            remove_engine_container(check=False)
        for pattern, what in ((f"docker-registry serve {STATE}", "docker-registry"),):
            pids = output(["pgrep", "-f", pattern], check=False).split()
            for pid in pids:
                say(f"stopping {what} (pid {pid})")
                os.kill(int(pid), 15)


def pushed_digests(recipes: Sequence[ImageRecipe]) -> dict[str, str]:
    """Each recipe's manifest digest as the registry holds it now, after the steps pushed it."""
    digests = {r.name: registry_digest(r.reference) for r in recipes}
    if missing := [r.reference for r in recipes if not digests[r.name]]:
        raise KitError(
            f"the registry on {REGISTRY_LISTEN} has no {', '.join(missing)} although this run "
            "built or found it; is another kit/provision pushing? run kit/provision again"
        )
    return {name: found for name, found in digests.items() if found}


def remove_engine_container(*, check: bool) -> None:
    """Stop the engine with a signal it shuts down on, then remove it (`check`: a removal that
    fails raises). Killed (`docker rm -f`), it marks its cache unclean and the next engine
    discards all of it on start (91 s of a cold provision went to that)."""
    run(
        ["docker", "stop", "--time", str(ENGINE_STOP_SECONDS), ENGINE_CONTAINER],
        capture=True,
        check=False,
    )
    run(["docker", "rm", "-f", ENGINE_CONTAINER], capture=True, check=check)
