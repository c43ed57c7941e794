"""The moesim Python package against the CLI it mirrors (ctest PythonPackage runs this with
Debian's python3; MOESIM_BIN names the CLI and MOESIM_SOURCE_DIR the repository)."""
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import moesim

SOURCE = Path(os.environ.get("MOESIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
FIXTURES = SOURCE / "tests/data/importers"
BIN = os.environ.get("MOESIM_BIN", "moesim")


def cli(*args):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)


def test_python_and_cli_write_byte_identical_reports(tmp_path):
    assert cli("run", "quickstart", "--out", tmp_path / "cli", "-q").returncode == 0
    moesim.run("quickstart", out=tmp_path / "py")
    for name in ("report.json", "report.csv", "timeline.json"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "py" / name).read_bytes()


def test_run_returns_tables_as_arrays():
    report = moesim.run("quickstart")
    # Mixtral-8x7B: 32 MoE layers of 8 experts; EP 8 on one node
    assert report["per_expert"]["tokens"].shape == (32, 8)
    assert isinstance(report["layers"]["imbalance_max_over_mean"], np.ndarray)
    assert len(report["per_gpu"]["gpu"]) == 8
    # uniform routing, top-2: each layer routes 2 copies of every token
    tokens = report["per_expert"]["tokens"].sum(axis=1)
    assert np.allclose(tokens, tokens[0])


def test_a_dict_runs_like_its_file():
    scenario = json.loads((SOURCE / "scenarios/quickstart.json").read_text())
    from_dict = moesim.run(scenario)
    from_name = moesim.run("quickstart")
    assert from_dict["summary"] == from_name["summary"]


def test_config_error_carries_the_clis_message(tmp_path):
    bad = tmp_path / "bad.json"
    scenario = json.loads((SOURCE / "scenarios/quickstart.json").read_text())
    scenario["parallelism"]["expert_parallel"] = 3  # does not divide the 8 GPUs
    bad.write_text(json.dumps(scenario))
    result = cli("validate", bad)
    assert result.returncode == 2
    with pytest.raises(moesim.ConfigError) as raised:
        moesim.validate(bad)
    assert result.stderr.strip() == f"error: {raised.value}"
    assert raised.value.source == str(bad)
    assert raised.value.problems and raised.value.problems[0][0].startswith("/parallelism")
    with pytest.raises(moesim.ConfigError, match="<dict>"):
        moesim.validate(scenario)


def test_repeat_layers_without_a_trace_is_refused_not_ignored():
    # Session 12: `moesim run --repeat-layers` without --trace changed nothing; so did this.
    with pytest.raises(moesim.ConfigError, match="^repeat_layers: /: tiles the layers of the trace"):
        moesim.run("quickstart", repeat_layers=True)


def test_threads_sweep_with_the_gil_released():
    scenario = json.loads((SOURCE / "scenarios/quickstart.json").read_text())
    sizes = [1024, 2048, 4096, 8192]

    def step_ms(tokens):
        s = json.loads(json.dumps(scenario))
        s["workload"]["tokens_per_gpu"] = tokens
        return moesim.run(s)["summary"]["step_time_ms"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(step_ms, sizes))
    assert parallel == [step_ms(n) for n in sizes]
    assert parallel == sorted(parallel)  # more tokens per GPU, longer steps
    # A Python thread keeps counting while the simulator runs: it holds no GIL meanwhile.
    counter, stop = [0], threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    time.sleep(0.01)
    before = counter[0]
    moesim.run("dsv3-prefill-h200x256")
    during = counter[0] - before
    stop.set()
    thread.join()
    assert during > 0


EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


@pytest.mark.parametrize("fixture", ["sglang_stat.pt", "sglang_per_pass.pt",
                                     "vllm_routed_experts.npy", "vllm_routed_experts.npz",
                                     "router_trace_rank0.jsonl"])
def test_each_importer_replays_through_run_with_its_counts(fixture, tmp_path):
    want = np.array(EXPECTED[fixture]["tokens_per_expert"], dtype=float)
    top_k = {"top_k": 2} if fixture.startswith("sglang") else {"experts": 8}
    assert (moesim.trace_stats(FIXTURES / fixture, **top_k)["tokens_per_expert"] == want).all()
    # quickstart's Mixtral has 32 MoE layers of 8 experts, top-2: the 2 recorded layers tile
    result = cli("run", "quickstart", "--trace", FIXTURES / fixture, "--repeat-layers", "--out",
                 tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    for layer in report["layers"]:
        got = np.array(layer["tokens_per_expert"], dtype=float)
        row = want[layer["layer"] % 2]
        # scaled to the scenario's tokens: the same counts, times one factor per layer
        assert np.allclose(got / got.sum(), row / row.sum(), rtol=1e-12, atol=0)


def test_expert_map_places_by_ep_rank():
    result = moesim.place(FIXTURES / "vllm_routed_experts.npy", gpus=2, strategy="explicit",
                          placement_file=FIXTURES / "sglang_expert_location.pt", map_layer=1)
    # row 1 = [0..7, 0, 5]: slots 0-4 on GPU 0, 5-9 on GPU 1
    assert result["slots"] == [[0, 1, 2, 3, 4], [5, 6, 7, 0, 5]]
    assert result["gpu_load"].shape == (2,)


def test_check_compares_two_runs(tmp_path):
    moesim.run("quickstart", out=tmp_path / "a")
    moesim.run("quickstart", out=tmp_path / "b")
    result = moesim.check(tmp_path / "a/report.json", tmp_path / "b/report.json")
    assert result["regressed"] is False and result["compared"] > 0
    in_memory = moesim.check(tmp_path / "a/report.json", moesim.run("quickstart"))
    assert in_memory["regressed"] is False


def test_compare_puts_reports_side_by_side(tmp_path):
    moesim.run("quickstart", out=tmp_path / "a")
    scenario = json.loads((SOURCE / "scenarios/quickstart.json").read_text())
    scenario["workload"]["tokens_per_gpu"] *= 2
    doubled = moesim.run(scenario)
    result = moesim.compare(tmp_path / "a/report.json", doubled)
    assert result["labels"] == [str(tmp_path / "a/report.json"), "<dict 1>"]
    step = next(row for row in result["rows"] if row["figure"] == "step_time_ms")
    # Each column holds its own report's step time, in the order given.
    first = json.loads((tmp_path / "a/report.json").read_text())["summary"]["step_time_ms"]
    assert step["values"] == [pytest.approx(first),
                              pytest.approx(doubled["summary"]["step_time_ms"])]
    assert step["values"][1] > step["values"][0]  # twice the tokens take longer


def test_plan_runs_the_shipped_plan():
    plan = moesim.plan(SOURCE / "scenarios/plans/dsv3-serving.json", threads=2)
    assert plan == json.loads(json.dumps(plan))  # plain JSON data
    assert len(plan) > 0
