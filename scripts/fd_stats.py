#!/usr/bin/env python3
"""Reference statistics for `diffbench --quality fd` (diffbench_tools/fd_stats.py says what and how).

    .venv/bin/python scripts/fd_stats.py --features models/digits/features.pt IMAGES -o stats.json
"""
from diffbench_tools import fd_stats
from diffbench_tools.cli import run

if __name__ == "__main__":
    run(fd_stats.main)
