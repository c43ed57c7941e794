"""The cases of hostile_sweep.py, by input kind: each base file is a valid input, and every case
puts one hostile value in one field (or hands a hostile file where the base names one)."""
import copy
import json
import os
import zipfile

RUN = ["run", "{F}", "--out", "{OUT}", "-q"]
VALIDATE = ["validate", "{F}"]
SERVE = ["serve", "{F}", "--out", "{OUT}", "-q"]
PLAN = ["plan", "{F}", "--out", "{OUT}", "-j", "1"]
STATS = ["trace", "stats", "{F}"]

QUICKSTART = {
    "schema_version": 1, "name": "hostile", "model": "mixtral-8x7b", "cluster": "h100x8",
    "parallelism": {"expert_parallel": 8, "overlap": "none"},
    "placement": {"strategy": "contiguous"}, "policy": {"capacity_factor": None},
    "workload": {"kind": "prefill", "tokens_per_gpu": 256, "context_tokens": 1024,
                 "routing": {"generator": "uniform", "seed": 1}},
    "profile": "roofline"}


def scenario_cases(sweep, h):
    training = h.load("scenarios/mixtral-train-h100x64-3d.json")
    training["workload"]["tokens_per_gpu"] = 1024
    sweep.mutate("train", training, [
        "/parallelism/moe_tensor_parallel", "/parallelism/pipeline_parallel/size",
        "/parallelism/pipeline_parallel/schedule", "/parallelism/pipeline_parallel/micro_batches",
        "/parallelism/pipeline_parallel/virtual_stages", "/parallelism/data_parallel/size",
        "/parallelism/data_parallel/zero_stage", "/parallelism/rank_order",
        "/parallelism/context_parallel"], RUN)
    decode = copy.deepcopy(QUICKSTART)
    decode["workload"].update({"kind": "decode", "tokens_per_gpu": 16, "mtp_draft_tokens": 2,
                               "mtp_acceptance_rate": 0.7, "cuda_graphs": True})
    sweep.mutate("decode", decode, [
        "/workload/mtp_draft_tokens", "/workload/mtp_acceptance_rate", "/workload/cuda_graphs",
        "/workload/context_tokens", "/workload/steps"], RUN)
    mixed = copy.deepcopy(decode)
    mixed["workload"]["mixed_prefill"] = {"input_tokens": 1024, "output_tokens": 2048,
                                          "scheduling": "separate", "chunk_tokens": 256}
    sweep.mutate("mixed", mixed, [
        "/workload/mixed_prefill/input_tokens", "/workload/mixed_prefill/output_tokens",
        "/workload/mixed_prefill/scheduling", "/workload/mixed_prefill/chunk_tokens"], RUN)
    h.special_files(sweep, "scenario", RUN)
    # {"hf_config": path}: the config's values and the path itself
    config = h.load("tests/data/hf/mixtral-8x7b.json")
    for key in ["num_local_experts", "num_experts_per_tok", "num_hidden_layers", "hidden_size",
                "intermediate_size", "num_attention_heads", "num_key_value_heads", "vocab_size"]:
        for i, value in enumerate(h.NUMBERS + h.OTHERS):
            mutated = dict(config, **{key: value})
            name = "hf-%s-%d.json" % (key, i)
            sweep.write(name, json.dumps(mutated))
            scenario = dict(QUICKSTART, model={"hf_config": name})
            path = sweep.write("hfscenario-%s-%d.json" % (key, i), json.dumps(scenario))
            sweep.run("hf_config/%s=%d" % (key, i), ["run", path, "--out", "{OUT}", "-q"], [name])
    fifo = os.path.join(sweep.scratch, "fifo.json")
    for kind, target in [("zero", "/dev/zero"), ("fifo", fifo), ("dir", "folder.json"),
                         ("self", "hf-self.json"), ("missing", "nothere.json"), ("empty", ""),
                         ("number", 5)]:
        scenario = dict(QUICKSTART, model={"hf_config": target})
        path = sweep.write("hf-self.json" if kind == "self" else "hf-%s.json" % kind,
                           json.dumps(scenario))
        sweep.run("hf_config_path:%s" % kind, ["run", path, "--out", "{OUT}", "-q"],
                  [str(target) if target else "hf_config", os.path.basename(path)])


def serving_base(h):
    """An aggregated Mixtral deployment with five seconds of traffic: fast to serve."""
    serving = h.load("scenarios/serving/mixtral-h100-aggregated.json")
    serving["scenario"]["profile"] = "roofline"
    serving["traffic"].update({"rate_per_s": 2, "duration_s": 5})
    return serving


def serving_cases(sweep, h):
    serving = serving_base(h)
    sweep.mutate("serve", serving, [
        "/instances", "/traffic/rate_per_s", "/traffic/duration_s", "/traffic/max_requests",
        "/traffic/seed", "/traffic/input_tokens", "/traffic/input_tokens/median",
        "/traffic/input_tokens/sigma", "/traffic/input_tokens/max", "/traffic/output_tokens/min",
        "/traffic/output_tokens/max", "/traffic/prefix_cache_hit_rate", "/traffic/arrival",
        "/batching/max_batch_per_rank", "/batching/token_budget_per_rank",
        "/batching/chunked_prefill", "/batching/memory_fraction", "/sla/ttft_p90_ms",
        "/sla/tpot_p90_ms", "/scenario"], SERVE)
    users = copy.deepcopy(serving)
    users["traffic"] = {"arrival": "concurrency", "users": 4, "duration_s": 5, "seed": 1,
                        "input_tokens": 500, "output_tokens": 50}
    sweep.mutate("users", users, ["/traffic/users", "/traffic/input_tokens",
                                  "/traffic/output_tokens"], SERVE)
    h.special_files(sweep, "serving", SERVE)
    # the request log a serving file names, and the log's own lines
    log_serving = copy.deepcopy(serving)
    log_serving["traffic"] = {"arrival": "log", "log": "requests.csv"}
    fifo = os.path.join(sweep.scratch, "fifo.json")
    for kind, target in [("zero", "/dev/zero"), ("fifo", fifo), ("dir", "folder.json"),
                         ("self", "log-self.json"), ("missing", "nothere.csv"), ("number", 7)]:
        document = copy.deepcopy(log_serving)
        document["traffic"]["log"] = target
        path = sweep.write("log-self.json" if kind == "self" else "log-%s.json" % kind,
                           json.dumps(document))
        sweep.run("log_path:%s" % kind, SERVE_WITH(path), [str(target), os.path.basename(path)])
    header = "arrival_s,input_tokens,output_tokens\n"
    logs = {
        "empty.csv": "", "header-only.csv": header, "no-header.csv": "0,10,10\n",
        "dup-column.csv": "arrival_s,arrival_s,input_tokens,output_tokens\n0,0,10,10\n",
        "nan.csv": header + "nan,10,10\n", "inf.csv": header + "inf,10,10\n",
        "huge-arrival.csv": header + "1e308,10,10\n", "neg.csv": header + "-1,10,10\n",
        "wrap.csv": header + "0,4294967306,10\n", "big.csv": header + "0,99999999999999999999,1\n",
        "zero-len.csv": header + "0,0,10\n", "frac.csv": header + "0,10.5,10\n",
        "short-row.csv": header + "0,10\n", "long-row.csv": header + "0,10,10,10,10\n",
        "nul.csv": header + "0,1\x000,10\n", "crlf.csv": header.replace("\n", "\r\n") + "0,10,10\r\n",
        "quoted.csv": header + '"0","10","10"\n', "bom.csv": "\ufeff" + header + "0,10,10\n",
        "hex.csv": header + "0x10,10,10\n", "space.csv": header + " 0 , 10 , 10 \n",
        "empty.jsonl": "", "blank.jsonl": "\n\n",
        "nan.jsonl": '{"arrival_s": NaN, "input_tokens": 1, "output_tokens": 1}\n',
        "str.jsonl": '{"arrival_s": "0", "input_tokens": 1, "output_tokens": 1}\n',
        "wrap.jsonl": '{"arrival_s": 0, "input_tokens": 4294967306, "output_tokens": 1}\n',
        "u64.jsonl": '{"arrival_s": 0, "input_tokens": 18446744073709551615, "output_tokens": 1}\n',
        "missing.jsonl": '{"arrival_s": 0, "input_tokens": 1}\n',
        "extra.jsonl": '{"arrival_s": 0, "input_tokens": 1, "output_tokens": 1, "x": 1}\n',
        "array.jsonl": '[0, 1, 1]\n', "dup-key.jsonl":
            '{"arrival_s": 0, "arrival_s": 1, "input_tokens": 1, "output_tokens": 1}\n',
        "deep.jsonl": "[" * 100000 + "\n", "huge-arrival.jsonl":
            '{"arrival_s": 1e308, "input_tokens": 1, "output_tokens": 1}\n',
        "many-bad.csv": header + "x,y,z\n" * 100000,
    }
    for name, text in logs.items():
        sweep.write(name, text)
        document = copy.deepcopy(log_serving)
        document["traffic"]["log"] = name
        path = sweep.write("serve-%s.json" % name, json.dumps(document))
        sweep.run("log:%s" % name, SERVE_WITH(path), [name])


def SERVE_WITH(path):
    return ["serve", path, "--out", "{OUT}", "-q"]


def plan_base(h):
    """The Mixtral SLA plan cut to one candidate per serving option: fast to plan."""
    plan = h.load("scenarios/plans/mixtral-sla.json")
    plan["search"]["clusters"] = plan["search"]["clusters"][:1]
    plan["search"]["clusters"][0]["nodes"] = [1]
    plan["search"]["attention_tensor_parallel"] = [1]
    plan["search"]["placement_strategies"] = ["contiguous"]
    plan["search"]["overlaps"] = ["none"]
    plan["base"]["profile"] = "roofline"
    plan["serving"]["traffic"].update({"rate_per_s": 2, "duration_s": 5})
    plan["serving"]["batching"]["max_batch_per_rank"] = [8]
    return plan


def plan_cases(sweep, h):
    plan = plan_base(h)
    sweep.mutate("plan", plan, [
        "/serving/keep", "/serving/batching/max_batch_per_rank",
        "/serving/batching/max_batch_per_rank/0", "/serving/batching/token_budget_per_rank",
        "/serving/sla/ttft_p90_ms", "/serving/sla/tpot_p90_ms", "/serving/traffic/rate_per_s",
        "/serving/traffic/duration_s", "/serving/traffic/output_tokens", "/serving/sla"], PLAN)
    h.special_files(sweep, "plan", PLAN)


def calibrate_cases(sweep, h):
    timings = {"format": "moesim-calibration", "schema_version": 1, "device": "NVIDIA H200",
               "stack": "s", "records": [
                   {"case": "a", "ranks": 2, "rank": 0,
                    "shape": {"hidden": 64, "expert_ffn": 64, "experts": 4, "top_k": 2},
                    "tokens": 512, "tokens_per_local_expert": [300, 200],
                    "phases_ms": {"gate": 0.1, "experts": 0.5}, "layer_ms": 1.0}]}
    pointers = ["/schema_version", "/format", "/device", "/stack", "/records", "/records/0/ranks",
                "/records/0/rank", "/records/0/shape/hidden", "/records/0/shape/expert_ffn",
                "/records/0/shape/experts", "/records/0/shape/top_k", "/records/0/shape/gated",
                "/records/0/tokens", "/records/0/tokens_per_local_expert",
                "/records/0/tokens_per_local_expert/0", "/records/0/phases_ms/gate",
                "/records/0/layer_ms", "/records/0/dtypes", "/records/0/case"]
    sweep.mutate("calibrate", timings, pointers, ["calibrate", "{F}", "--out", "{OUT}.json"])
    sweep.mutate("calcheck", timings, pointers[5:14],
                 ["calibrate", "--check", os.path.join(h.ROOT, "scenarios/profiles/h200-torch.json"),
                  "{F}"])
    h.special_files(sweep, "calibrate", ["calibrate", "{F}", "--out", "{OUT}.json"])
    path = sweep.write("cal-self.json", json.dumps(timings))
    sweep.run("calibrate:out=in", ["calibrate", path, "--out", path], ["cal-self.json"])


def report_cases(sweep, h):
    sweep.write("base-scenario.json", json.dumps(QUICKSTART))
    out = os.path.join(sweep.scratch, "base-report")
    sweep.run("report:base", ["run", "base-scenario.json", "--out", out, "-q"], [],
              expect_bad=False)
    report_path = os.path.join(out, "report.json")
    if not os.path.exists(report_path):
        return
    with open(report_path) as f:
        report = json.load(f)
    pointers = ["/schema_version", "/scenario", "/summary", "/summary/step_time_ms",
                "/summary/tokens_per_s", "/layers"]
    sweep.mutate("compare", report, pointers, ["compare", report_path, "{F}"])
    sweep.mutate("check", report, pointers, ["check", report_path, "{F}"])
    h.special_files(sweep, "compare", ["compare", report_path, "{F}"])
    sweep.run("compare:csv=in", ["compare", report_path, report_path, "--csv", report_path],
              ["report.json"])
    sweep.run("check:junit=in", ["check", report_path, report_path, "--junit", report_path],
              ["report.json"])


def importer_cases(sweep, h):
    data = os.path.join(h.ROOT, "tests/data/importers")
    for name in ["sglang_per_pass.pt", "sglang_stat.pt", "vllm_routed_experts.npz",
                 "vllm_routed_experts.npy", "router_trace_rank0.jsonl"]:
        with open(os.path.join(data, name), "rb") as f:
            original = f.read()
        stem, ext = os.path.splitext(name)
        cuts = sorted({1, 8, 30, 64, 100, len(original) // 2, len(original) - 1})
        for cut in cuts:
            if cut < len(original):
                path = sweep.write("%s-cut%d%s" % (stem, cut, ext), original[:cut])
                sweep.run("import:%s:cut%d" % (name, cut), ["trace", "stats", path],
                          [os.path.basename(path)])
        for at in range(0, len(original), max(1, len(original) // 40)):
            for byte in (0x00, 0xFF, 0x7F):
                mutated = bytearray(original)
                mutated[at] = byte
                path = sweep.write("%s-b%d-%d%s" % (stem, at, byte, ext), bytes(mutated))
                sweep.run("import:%s:byte%d=%d" % (name, at, byte), ["trace", "stats", path],
                          [os.path.basename(path)], expect_bad=False)
    line = {"step": 0, "stage": "pre_dispatch", "block": "decoder", "layer": 1, "rank": 0,
            "num_tokens": 2, "topk": 2, "top_indices": [[0, 4], [1, 5]]}
    for key in ["step", "layer", "rank", "num_tokens", "topk", "top_indices", "stage"]:
        for i, value in enumerate(h.NUMBERS + h.OTHERS):
            text = json.dumps(dict(line, **{key: value})) + "\n"
            path = sweep.write("megatron-%s-%d.jsonl" % (key, i), text)
            sweep.run("megatron/%s=%d" % (key, i), STATS_WITH(path), [os.path.basename(path)],
                      expect_bad=False)
    h.special_files(sweep, "trace", STATS)
    # a ZIP whose member claims a huge size (a .pt or an .npz) must be refused, not inflated
    bomb = os.path.join(sweep.scratch, "bomb.npz")
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("routed_experts.npy", b"\x93NUMPY\x01\x00v\x00" + b" " * 2**28)
    sweep.run("import:zip-bomb", ["trace", "stats", bomb], ["bomb.npz"])


def STATS_WITH(path):
    return ["trace", "stats", path]


def add_all_cases(sweep, h):
    for cases in [scenario_cases, serving_cases, plan_cases, calibrate_cases, report_cases,
                  importer_cases]:
        cases(sweep, h)
