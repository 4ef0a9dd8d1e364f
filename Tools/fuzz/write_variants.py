#!/usr/bin/env python3
"""`make fuzz`: writes every structural model variant and 200 random ones into a
folder, as the libFuzzer seed corpus and the ASan pass's inputs."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_variants import random_variants, structural_variants  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in structural_variants() + random_variants(200, 3):
    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(data)
print(f"fuzz: {len(os.listdir(out))} model variants in {out}")
