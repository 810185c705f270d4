#!/usr/bin/env python3
"""The lecture's "minimum steps" table from a --quality fd sweep (diffbench_tools/min_steps.py
states the rule).

    .venv/bin/python scripts/min_steps.py quality.jsonl [--tolerance 0.10] [--json min_steps.json]
"""
from diffbench_tools import min_steps
from diffbench_tools.cli import run

if __name__ == "__main__":
    run(min_steps.main)
