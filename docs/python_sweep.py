# The sweep of docs/python.md: quickstart's step time as tokens per GPU grow, four at a time.
import json
from concurrent.futures import ThreadPoolExecutor

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import moesim

base = json.load(open("scenarios/quickstart.json"))
sizes = [512, 1024, 2048, 4096, 8192, 16384]

def simulate(tokens):
    scenario = json.loads(json.dumps(base))
    scenario["workload"]["tokens_per_gpu"] = tokens
    return moesim.run(scenario)

with ThreadPoolExecutor(max_workers=4) as pool:
    reports = list(pool.map(simulate, sizes))

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(sizes, [r["summary"]["step_time_ms"] for r in reports], marker="o")
ax.set_xscale("log", base=2)
ax.set_xlabel("tokens per GPU per step")
ax.set_ylabel("step time (ms)")
ax.set_title("quickstart: Mixtral-8x7B prefill, 8 x H100")
fig.tight_layout()
fig.savefig("sweep.png", dpi=120)
print([round(r["summary"]["step_time_ms"], 2) for r in reports])
