#!/usr/bin/env python3
"""Writes every ONNX node-test model with one integer attribute value replaced by an extreme one.

    python3 scripts/attribute-sweep.py NODE_TEST_DIR OUT_DIR
    ATTNC_FUZZ_TARGET=onnx attnc-fuzz -runs=0 -rss_limit_mb=4096 -timeout=20 OUT_DIR

NODE_TEST_DIR is what scripts/onnx-node-tests.sh writes (.build/onnx-node-tests). Each model gets,
for each INT attribute and each entry of each INTS attribute, one copy per value in EXTREMES: the
values where size arithmetic divides by zero or overflows, which random mutation rarely reaches.
Running the onnx fuzz target over OUT_DIR with -runs=0 imports every copy once and stops at the
first crash, hang or out-of-memory (docs/RELIABILITY.md, "Attribute sweep").
"""
import copy
import pathlib
import sys

import onnx
from onnx import AttributeProto

EXTREMES = [0, -1, -(2**63), 2**63 - 1, 2**40, 2**31]


def variants(model):
    """(label, model) for every single-value replacement."""
    for n, node in enumerate(model.graph.node):
        for a, attribute in enumerate(node.attribute):
            if attribute.type == AttributeProto.INT:
                slots = [None]
            elif attribute.type == AttributeProto.INTS:
                slots = range(len(attribute.ints))
            else:
                continue
            for slot in slots:
                for value in EXTREMES:
                    changed = copy.deepcopy(model)
                    target = changed.graph.node[n].attribute[a]
                    if slot is None:
                        target.i = value
                    else:
                        target.ints[slot] = value
                    yield f"{attribute.name}{'' if slot is None else slot}={value}", changed


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.glob("*/model.onnx")):
        for label, model in variants(onnx.load(path)):
            (out / f"{path.parent.name}-{label}").write_bytes(model.SerializeToString())
            count += 1
    print(f"{count} models in {out}")


if __name__ == "__main__":
    main()
