#!/usr/bin/python3
"""Check that a merged sharded sweep is exactly the one-process sweep of the same grid.

    same_result.py MERGED.json ONE_PROCESS.jsonl

The same cells, each exactly once; per cell the same configuration (less the file paths and the
warm-up/repeat counts, as the cell identity of merge and compare), the same timesteps and sigmas,
and bit-identical final latents (latents_sha256: both sides ran with the same threads, so even the
stochastic samplers' seeded noise is the same). Exit 0 when equal, 1 with the differences.
"""
import json
import sys

NOT_IDENTITY = ("unet", "vae", "warmup", "repeat")


def runs_of(path):
    with open(path) as f:
        text = f.read()
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [run for doc in docs for run in doc["runs"]]


def key(run):
    config = {k: v for k, v in run["config"].items() if k not in NOT_IDENTITY}
    return json.dumps(config, sort_keys=True)


def main():
    merged, single = runs_of(sys.argv[1]), runs_of(sys.argv[2])
    problems = []
    for name, runs in (("merged", merged), ("one process", single)):
        keys = [key(r) for r in runs]
        for k in set(keys):
            if keys.count(k) > 1:
                problems.append(f"{name}: a cell appears {keys.count(k)} times: {k[:120]}")
        for r in runs:
            if r["status"] != "ok":
                problems.append(f"{name}: {r['config']['sampler']} {r['config']['steps']}: status {r['status']}")
    a, b = {key(r): r for r in merged}, {key(r): r for r in single}
    for k in sorted(set(a) ^ set(b)):
        problems.append(f"only in {'merged' if k in a else 'one process'}: {k[:160]}")
    for k in sorted(set(a) & set(b)):
        label = f"{a[k]['config']['sampler']} {a[k]['config']['steps']} steps"
        for field in ("timesteps", "sigmas", "latents_sha256"):
            if a[k].get(field) is None or b[k].get(field) is None:  # null == null would compare nothing
                problems.append(f"{label}: {field} is missing or null on one side or both")
            elif a[k][field] != b[k][field]:
                problems.append(f"{label}: {field} differs")
        if a[k]["sweep"]["cell"] != b[k]["sweep"]["cell"] or a[k]["sweep"]["grid_sha256"] != b[k]["sweep"]["grid_sha256"]:
            problems.append(f"{label}: grid position or grid identity differs")
    order = [r["sweep"]["cell"] for r in merged]
    if order != sorted(order):
        problems.append(f"merged cells are not in grid order: {order}")
    for p in problems:
        print(f"same_result.py: {p}", file=sys.stderr)
    if not problems:
        print(f"same_result.py: {len(merged)} cells, each once, equal configurations, timesteps and latents")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
