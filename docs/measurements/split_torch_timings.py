#!/usr/bin/env python3
"""Splits the recorded PyTorch timings by shape: four shapes to calibrate on, four held out.

Also writes fit-upto2048.json and held-out-over2048.json: the fitted shapes at <= 2048 tokens per
rank and the held-out shapes above, to check the band's widening when a prediction extrapolates.

The fitted half spans the range of every shape variable (hidden 1536..7168, experts 8..256, top-k
2..8, expert FFN 512..14336), so the held-out half is predicted inside it, as a user's new model
would usually be.

    python3 docs/measurements/split_torch_timings.py [OUT_DIR]   (default build/calibration)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIT_SHAPES = {"deepseek-v3", "mixtral-8x7b", "qwen3-30b-a3b", "off-1536x512e32k2"}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/calibration"
    os.makedirs(out, exist_ok=True)
    halves = {"fit": [], "held-out": []}
    doc = None
    for name in ("h200x2-torch-timings-ep1.json", "h200x2-torch-timings-ep2.json"):
        doc = json.load(open(os.path.join(HERE, name)))
        for record in doc["records"]:
            shape = record["case"].split()[0]
            halves["fit" if shape in FIT_SHAPES else "held-out"].append(record)
    # The extrapolation check: the fitted shapes up to 2048 tokens, the held-out ones above.
    halves["fit-upto2048"] = [r for r in halves["fit"] if r["tokens"] <= 2048]
    halves["held-out-over2048"] = [r for r in halves["held-out"] if r["tokens"] > 2048]
    for half, records in halves.items():
        part = {k: v for k, v in doc.items() if k != "records"}
        part["provenance"] = dict(doc["provenance"], split=f"{half}: shapes "
                                  + ("in" if half.startswith("fit") else "not in")
                                  + f" {sorted(FIT_SHAPES)}")
        part["records"] = records
        with open(os.path.join(out, f"{half}.json"), "w") as f:
            json.dump(part, f, indent=1)
        print(f"{out}/{half}.json: {len(records)} records")


if __name__ == "__main__":
    main()
