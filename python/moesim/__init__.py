"""moesim from Python: the same simulator library the `moesim` command runs (docs/python.md).

Every function mirrors a CLI command and returns plain dicts; the report's per-layer, per-GPU and
per-expert tables come as NumPy arrays. Bad input raises ConfigError with the message the CLI
prints (file, JSON path or byte, what was expected). Simulation releases the GIL, so a
ThreadPoolExecutor sweeps scenarios in parallel.
"""
import json
import os

import numpy as np

from . import _moesim
from ._moesim import ConfigError

__all__ = ["ConfigError", "run", "validate", "place", "trace_stats", "plan", "check"]


def _source(value):
    """(name or path, JSON text) for a built-in name, a file path or a dict."""
    if isinstance(value, dict):
        return "", json.dumps(value)
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value), ""
    raise TypeError(f"expected a built-in name, a path or a dict, got {type(value).__name__}")


def _columns(rows):
    """A list of dicts (a report table) as a dict of columns: numbers become 1-D arrays, lists of
    one length 2-D arrays; ragged lists stay lists of arrays."""
    columns = {}
    for key in rows[0] if rows else []:
        values = [row.get(key) for row in rows]
        if all(isinstance(v, list) for v in values):
            lengths = {len(v) for v in values}
            columns[key] = (np.array(values, dtype=float) if len(lengths) == 1
                            else [np.array(v, dtype=float) for v in values])
        elif all(isinstance(v, (int, float, bool)) and v is not None for v in values):
            columns[key] = np.array(values)
        else:
            columns[key] = values
    return columns


def _report_dict(text):
    report = json.loads(text)
    layers = report.get("layers", [])
    moe = [layer for layer in layers if layer.get("moe")]
    report["per_expert"] = {
        "layer": np.array([layer["layer"] for layer in moe], dtype=int),
        "tokens": np.array([layer["tokens_per_expert"] for layer in moe], dtype=float),
        "dropped": np.array([layer["dropped_per_expert"] for layer in moe], dtype=float),
    }
    report["layers"] = _columns(layers)
    report["per_gpu"] = _columns(report.get("per_gpu", []))
    return report


def run(scenario, trace=None, profile=None, repeat_layers=False, out=None):
    """Simulates a scenario (built-in name, path or dict), as `moesim run`.

    trace replays a routing file of any format `moesim trace` reads; profile prices from another
    profile; out, when given, receives report.json, report.csv and timeline.json exactly as the
    CLI writes them. Returns the report as a dict: "layers" and "per_gpu" are dicts of NumPy
    columns, "per_expert" holds [MoE layers, experts] arrays of tokens and drops.
    """
    name, text = _source(scenario)
    report = _moesim.run(name, text, os.fspath(trace) if trace else "", profile or "",
                         repeat_layers, os.fspath(out) if out else "")
    return _report_dict(report)


def validate(scenario):
    """Checks a scenario as `moesim validate` does (it must also fit in memory)."""
    return json.loads(_moesim.validate(*_source(scenario)))


def trace_stats(routing, experts=0, top_k=0, counts=False):
    """Per-layer routing statistics, as `moesim trace stats --json`, with tokens_per_expert as a
    [layers, experts] array."""
    stats = json.loads(_moesim.trace_stats(os.fspath(routing), experts, top_k, counts))
    stats["tokens_per_expert"] = np.array(
        [layer["tokens_per_expert"] for layer in stats["layers"]], dtype=np.int64)
    return stats


def place(routing, gpus, strategy="eplb", nodes=1, redundant=0, groups=0, placement_file=None,
          map_layer=-1, experts=0, top_k=0, counts=False):
    """One placement for every layer from the routing's load, as `moesim place`."""
    result = json.loads(_moesim.place(
        os.fspath(routing), strategy, gpus, nodes, redundant, groups,
        os.fspath(placement_file) if placement_file else "", map_layer, experts, top_k, counts))
    result["gpu_load"] = np.array(result["gpu_load"])
    return result


def plan(spec, threads=0):
    """Runs a plan (path or dict) as `moesim plan` and returns its plan.json as a dict."""
    name, text = _source(spec)
    return json.loads(_moesim.plan(name, text, threads))


def _report_source(report):
    """(path, "") for a report file, ("", JSON text) for a dict from run."""
    if isinstance(report, dict):
        return "", json.dumps(_plain(report))
    return os.fspath(report), ""


def check(baseline, candidate, policy=None, fail_on=()):
    """Compares two reports (paths or dicts from run) as `moesim check BASELINE CANDIDATE`."""
    return json.loads(_moesim.check(*_report_source(baseline), *_report_source(candidate),
                                    os.fspath(policy) if policy else "", list(fail_on)))


def compare(*reports):
    """Reports (paths or dicts from run) side by side, as `moesim compare A B ...`: a dict of
    `labels`, `scenarios` and `rows`, each row a figure with one value per report (None where a
    report has none) or, for figures that are words, `texts`."""
    sources = [_report_source(report) for report in reports]
    return json.loads(_moesim.compare([path for path, _ in sources], [text for _, text in sources]))


def _plain(report):
    """A report dict from run back to report.json's JSON (arrays to lists, tables to rows)."""
    plain = {k: v for k, v in report.items() if k != "per_expert"}
    for table in ("layers", "per_gpu"):
        columns = plain.get(table)
        if isinstance(columns, dict):
            count = len(next(iter(columns.values()))) if columns else 0
            plain[table] = [{k: _plain_value(v[i]) for k, v in columns.items()}
                            for i in range(count)]
    return plain


def _plain_value(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
