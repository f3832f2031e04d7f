#!/usr/bin/env python3
"""Writes spec/backpack.yaml replicated FACTOR times (issue 18's scaled spec), as JSON.

Copy i > 0 of every path is served under `/r{i}` and its operationIds end in `-r{i}`, so every
operation, route and inline schema is distinct; component schemas and `x-webhooks` are shared.
Usage: scale-spec.py SPEC FACTOR OUT
"""
import json
import sys

import yaml


def main() -> None:
    spec_path, factor, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(spec_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    paths = {}
    for i in range(factor):
        for path, item in doc["paths"].items():
            copy = json.loads(json.dumps(item))
            if i > 0:
                for op in copy.values():
                    if isinstance(op, dict) and "operationId" in op:
                        op["operationId"] = f"{op['operationId']}-r{i}"
            paths[path if i == 0 else f"/r{i}{path}"] = copy
    doc["paths"] = paths
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, default=str)
    ops = sum(1 for item in paths.values() for k in item if k in ("get", "put", "post", "delete", "patch"))
    print(f"{out_path}: {ops} operations", file=sys.stderr)


if __name__ == "__main__":
    main()
