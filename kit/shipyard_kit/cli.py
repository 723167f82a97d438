"""kit/provision's options: provision (and print the client environment), report, or stop."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence

from shipyard_kit.settings import KitError
from shipyard_kit.steps import Provisioner


def main(argv: Sequence[str], description: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--print-env",
        action="store_true",
        help="provision, then print export lines for the client environment",
    )
    mode.add_argument("--status", action="store_true", help="report, change nothing")
    mode.add_argument("--down", action="store_true", help="stop the engine and the registry")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print(
            "kit/provision needs root (apt, dockerd, debootstrap); run it as root", file=sys.stderr
        )
        return 2
    kit = Provisioner()
    try:
        if args.status:
            return kit.status()
        if args.down:
            kit.down()
            return 0
        kit.up()
    except KitError as error:
        print(f"[kit] FAILED: {error}", file=sys.stderr)
        return 1
    if args.print_env:
        for key, value in kit.client_env().items():
            print(f"export {key}={shlex.quote(value)}")
        print(path_export(str(kit.bin)))
    return 0


def path_export(bin_dir: str) -> str:
    """A shell line that puts the kit's `dagger` first on PATH, once however often it is
    evaluated, so the README's `dagger call` lines run as written."""
    quoted = shlex.quote(bin_dir)
    return f'case ":$PATH:" in *:{quoted}:*) ;; *) export PATH={quoted}:"$PATH" ;; esac'
