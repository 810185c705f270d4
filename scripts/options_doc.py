#!/usr/bin/env python3
"""docs/options.md's reference from the binary's help (diffbench_tools/options_doc.py says how).

    .venv/bin/python scripts/options_doc.py build/diffbench docs/options.md [--check]
"""
from diffbench_tools import options_doc
from diffbench_tools.cli import run

if __name__ == "__main__":
    run(options_doc.main)
