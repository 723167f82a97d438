#!/usr/bin/env python3
"""The module runtime's entry point, as dagger's Python runtime has it: serve the module's
functions (or, with --register, write its type definitions)."""

import sys

from dagger.mod.cli import app

if __name__ == "__main__":
    sys.exit(app(None, "--register" in sys.argv[1:]))
