#!/usr/bin/env python3
"""Hostile-input sweep over the inputs of the serving, plan, calibrate, compare, importer and
scenario-parallelism code (issue 16): crafts bad files in a scratch folder, runs moesim on each and
reports every case that crashes, hangs, takes over 2 GB, exits other than 2 for a bad input, or
exits 2 without naming the file. docs/reliability.md.

    python3 tests/hostile/hostile_sweep.py MOESIM [SCRATCH] [--only WORD]
"""
import copy
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIME_LIMIT_S = 10
MEMORY_LIMIT_KB = 2 * 1024 * 1024

# Values that broke parsers before: narrowing, sign, overflow, non-finite, wrong types.
NUMBERS = [0, -1, 2**31, 2**32, 2**32 + 8, 2**63 - 1, 2**64 - 1, 1e308, -1e308, 1.5, 1e-320]
OTHERS = ["abc", None, [], {}, True]
RAW = ["NaN", "Infinity", "1e999", "-1e999", "18446744073709551616", "99999999999999999999999"]


def load(path):
    with open(os.path.join(ROOT, path)) as f:
        return json.load(f)


def set_at(document, pointer, value):
    parts = pointer.strip("/").split("/")
    node = document
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


class Sweep:
    def __init__(self, binary, scratch, only):
        self.binary, self.scratch, self.only = binary, scratch, only
        self.cases, self.failures = 0, []
        os.makedirs(scratch, exist_ok=True)

    def write(self, name, content):
        path = os.path.join(self.scratch, name)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)
        return path

    def run(self, label, args, names, expect_bad=True):
        """Runs moesim ARGS; NAMES are strings one of which a refusal must mention. Returns the
        exit code (None when skipped or killed as a hang)."""
        if self.only and self.only not in label:
            return
        self.cases += 1
        out_dir = os.path.join(self.scratch, "out")
        args = [a.replace("{OUT}", out_dir) for a in args]
        start = time.monotonic()
        err_path = os.path.join(self.scratch, "stderr.txt")
        with open(err_path, "wb") as err_file:
            proc = subprocess.Popen([self.binary] + args, stdout=subprocess.DEVNULL,
                                    stderr=err_file, stdin=subprocess.DEVNULL, cwd=self.scratch)
            while True:  # wait4: this child's own peak memory, not the largest child's so far
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > TIME_LIMIT_S * 3:
                    proc.kill()
                    os.wait4(proc.pid, 0)
                    self.fail(label, args, "hang: over %d s" % (TIME_LIMIT_S * 3), "")
                    return
                time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        with open(err_path, "rb") as err_file:
            err = err_file.read()
        err = err.decode("utf-8", "replace")
        first = err.strip().splitlines()[0] if err.strip() else ""
        rc = proc.returncode
        if rc < 0 or rc >= 128 or "runtime error:" in err or "AddressSanitizer" in err:
            self.fail(label, args, "crash rc=%d" % rc, err[-600:])
        elif seconds > TIME_LIMIT_S:
            self.fail(label, args, "slow: %.1f s (rc %d)" % (seconds, rc), first)
        elif expect_bad and rc != 2:
            self.fail(label, args, "exit %d, expected 2" % rc, first)
        elif rc == 2 and names and not any(n in err for n in names):
            self.fail(label, args, "exit 2 without naming %s" % names, first)
        elif usage.ru_maxrss > MEMORY_LIMIT_KB:
            self.fail(label, args, "memory: %d MB" % (usage.ru_maxrss // 1024), first)
        return rc

    def fail(self, label, args, what, detail):
        self.failures.append((label, what, detail))
        print("FAIL %s: %s\n  moesim %s\n  %s" % (label, what, " ".join(args), detail.strip()[:600]))
        sys.stdout.flush()

    def json_case(self, label, base, pointer, value, command, raw=None):
        """Writes BASE with VALUE (or RAW text) at POINTER and runs COMMAND (with {F})."""
        document = copy.deepcopy(base)
        set_at(document, pointer, "@@RAW@@" if raw else value)
        text = json.dumps(document)
        if raw:
            text = text.replace('"@@RAW@@"', raw)
        name = "%s.json" % label.replace("/", "_").replace(" ", "_")[:80]
        path = self.write(name, text)
        self.run(label, [a.replace("{F}", path) for a in command], [name])

    def mutate(self, prefix, base, pointers, command, values=None):
        for pointer in pointers:
            for i, value in enumerate(values if values is not None else NUMBERS + OTHERS):
                self.json_case("%s%s=%d" % (prefix, pointer, i), base, pointer, value, command)
            for j, raw in enumerate(RAW if values is None else []):
                self.json_case("%s%s=raw%d" % (prefix, pointer, j), base, pointer, None, command,
                               raw)


def special_files(sweep, label, command, names=None):
    """/dev/zero, a FIFO, a folder and a missing file in the place of an input."""
    fifo = os.path.join(sweep.scratch, "fifo.json")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    folder = os.path.join(sweep.scratch, "folder.json")
    os.makedirs(folder, exist_ok=True)
    for kind, path in [("zero", "/dev/zero"), ("fifo", fifo), ("dir", folder),
                       ("missing", os.path.join(sweep.scratch, "missing.json"))]:
        sweep.run("%s:%s" % (label, kind), [a.replace("{F}", path) for a in command],
                  names or [os.path.basename(path)])


from hostile_cases import add_all_cases  # noqa: E402  (the cases, by input kind)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--only")]
    only = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")), None)
    binary = os.path.abspath(args[0])
    scratch = os.path.abspath(args[1] if len(args) > 1 else "/tmp/moesim-hostile")
    sweep = Sweep(binary, scratch, only)
    add_all_cases(sweep, sys.modules[__name__])
    print("hostile sweep: %d cases, %d failures" % (sweep.cases, len(sweep.failures)))
    return 1 if sweep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
