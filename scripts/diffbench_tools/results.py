"""Reading diffbench's result files (a JSON report or a JSON-lines sweep file) for the scripts:
one reader, which refuses what is not a result file in one line."""
import json
import sys

from diffbench_tools.cli import fail, program


def read_runs(path):
    return read_report(path)[0]


def read_quality_pairs(path):
    """A sweep's paired quality differences ("quality_pairs" of its --json report; JSONL has none)."""
    return read_report(path)[1]


def read_report(path):
    """(runs, quality_pairs) of a JSON report or JSON-lines sweep file."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        fail(f"cannot read '{path}': {e.strerror}")
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs, lines = [], text.splitlines()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:
                if number == len(lines) and docs:
                    print(f"{program()}: '{path}' line {number} is cut off (an interrupted write); it is not drawn",
                          file=sys.stderr)
                    continue
                fail(f"'{path}' line {number} is not valid JSON: is it a diffbench result file?")
    runs, pairs = [], []
    for doc in docs:
        if isinstance(doc, dict) and "ab" in doc and "cells" in doc:
            fail(f"'{path}' is the output of ab (its verdicts), not a result file; plot the reports it measured "
                 "(ab writes them with --save-base / --save-new)")
        if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
            fail(f"'{path}' is not a diffbench report (no \"runs\" list)")
        if "threshold_percent" in doc or any(isinstance(r, dict) and "metrics" in r for r in doc["runs"]):
            fail(f"'{path}' is the output of compare or ab (the gate's verdicts), not a result file; plot the "
                 "reports it compared (ab writes them with --save-base / --save-new)")
        if any(not isinstance(r, dict) or "config" not in r for r in doc["runs"]):
            fail(f"'{path}' is not a diffbench result file (a run without \"config\")")
        runs.extend(doc["runs"])
        pairs.extend(doc.get("quality_pairs") or [])
    return runs, pairs
