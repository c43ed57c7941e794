#!/usr/bin/env python3
"""Runs every `moesim` command shown in README.md and docs/*.md (ctest: DocCommands).

A command is a line in a fenced block that starts with `$B ` or `moesim ` (continued over lines
ending in a backslash), or an inline `moesim ...` span in the text that is self-contained: each of
its arguments that names an input is a built-in scenario or a file the scratch folder holds. A
fenced block followed by a paragraph opening "(`moesim ...`" is that command's output: the command
must print each of its lines. Each runs under bash in a scratch folder holding the files the examples
name (made here, mostly by moesim itself); it must exit 0, or 0/1 for `check` (1 = a regression,
a verdict). Synopsis lines (SCENARIO, [--option], ...) and the commands listed in SKIPPED, each
with its reason, are not run. Usage: run_doc_commands.py MOESIM SOURCE_DIR SCRATCH_DIR
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys

# Commands that need what this machine cannot make: files measured on GPUs.
SKIPPED = {
    "build/calibration/": "phase timings measured on H200 GPUs (docs/accuracy.md); "
                          "tests/cli/calibrate_command_test.cpp runs calibrate on synthetic ones",
    "calibrate timings.json": "phase timings recorded on a GPU stack; "
                              "tests/cli/calibrate_command_test.cpp covers the command",
}
# Commands that read a scenario, report, trace, plan or config: inline, they run only with one.
NEEDS_INPUT = {"run", "validate", "check", "compare", "place", "plan", "serve", "import-hf",
               "calibrate", "trace", "topology"}
SYNOPSIS = re.compile(r"\b[A-Z][A-Z_]{2,}\b|\[|\.\.\.")


def commands(path):
    """(line number, command) for each moesim command in the file's fenced blocks."""
    found, fenced, pending, start = [], False, "", 0
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.lstrip().startswith("```"):
                fenced, pending = not fenced, ""
                continue
            if not fenced:
                continue
            text = line.rstrip("\n")
            if pending:
                pending += " " + text.strip().rstrip("\\")
            elif re.match(r"\s*(\$B|moesim) ", text):
                pending, start = text.strip().rstrip("\\"), number
            else:
                continue
            if not text.rstrip().endswith("\\"):
                found.append((start, re.sub(r"\s+#.*$", "", pending).strip()))
                pending = ""
    return found


def shown_outputs(path):
    """(line number, command, lines) for each fenced block that the next paragraph says is a
    command's output by opening with "(`moesim ...`": the command must print every line."""
    found, block, fenced, closed_at = [], [], False, None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                if fenced:
                    block = []
                else:
                    closed_at = number
                continue
            if fenced:
                block.append(line.rstrip("\n"))
            elif closed_at is not None and line.strip():
                match = re.match(r"\(`(moesim [^`]+)`", line.strip())
                if match and block:
                    found.append((closed_at, match.group(1), [b for b in block if b.strip()]))
                closed_at = None
    return found


def check_shown_output(moesim, scratch, where, command, lines):
    """None when `command` prints every line of its shown output, else what differs."""
    line = re.sub(r"^moesim\b", lambda _: moesim, command)
    result = subprocess.run(["bash", "-c", line], cwd=scratch, capture_output=True, text=True)
    printed = result.stdout.splitlines()
    missing = [shown for shown in lines if shown not in printed]
    if result.returncode != 0 or missing:
        return "exit %d; lines the docs show that it does not print:\n    %s" % (
            result.returncode, "\n    ".join(missing))
    return None


def inline_commands(path):
    """(line number, command) for each `moesim ...` code span outside the fenced blocks."""
    found, fenced = [], False
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                found += [(number, m.group(1).strip()) for m in re.finditer(r"`(moesim [^`]+)`", line)]
    return found


def inline_runnable(command, scratch, scenarios):
    """Why an inline command cannot run alone, or None when it can: it names its inputs (a built-in
    scenario or a file in the scratch folder) and every file-like argument exists there."""
    words = command.split()[2:]  # after `moesim <command>`
    if any(ch in command for ch in "|*<>"):
        return "a pattern, not one command"
    inputs = [w for w in words if w in scenarios or os.path.exists(os.path.join(scratch, w))]
    if command.split()[1] in NEEDS_INPUT and not inputs:
        return "names no input the page makes"
    missing = [w for w in words if not w.startswith("-") and ("." in w or "/" in w)
               and not os.path.exists(os.path.join(scratch, w))]
    return "names files the page does not make: " + " ".join(missing) if missing else None


def write_npy(path, dtype, shape, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, shape)
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    code = {"<i4": "i", "<i8": "q"}[dtype]
    with open(path, "wb") as out:
        out.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        out.write(struct.pack("<%d%s" % (len(values), code), *values))


def make_fixtures(moesim, source, scratch):
    def run(*args):
        subprocess.run([moesim, *args], cwd=scratch, check=True, stdout=subprocess.DEVNULL)

    os.symlink(os.path.join(source, "scenarios"), os.path.join(scratch, "scenarios"))
    # The recorded timings the calibration examples cross-check (read only).
    os.makedirs(os.path.join(scratch, "docs"), exist_ok=True)
    os.symlink(os.path.join(source, "docs", "measurements"),
               os.path.join(scratch, "docs", "measurements"))
    shutil.copy(os.path.join(source, "scenarios", "quickstart.json"), os.path.join(scratch, "my.json"))
    shutil.copy(os.path.join(source, "scenarios", "quickstart.json"),
                os.path.join(scratch, "my-serving.json"))
    shutil.copy(os.path.join(source, "scenarios", "profiles", "h100.json"),
                os.path.join(scratch, "my-gpu.json"))
    shutil.copy(os.path.join(source, "tests", "data", "hf", "mixtral-8x7b.json"),
                os.path.join(scratch, "config.json"))
    # quickstart is Mixtral-8x7B: 32 MoE layers of 8 experts, top-2.
    for name in ("trace.mtrace", "routing.mtrace", "new-routing.mtrace"):
        run("trace", "gen", "--layers", "32", "--experts", "8", "--top-k", "2", "--tokens", "256",
            "-o", name)
    # One layer of token -> expert ids [tokens, top_k], and a [layers, experts] count matrix.
    write_npy(os.path.join(scratch, "routing.npy"), "<i4", "(64, 2)",
              [(t * 3 + k) % 8 for t in range(64) for k in range(2)])
    write_npy(os.path.join(scratch, "counts.npy"), "<i8", "(2, 16)",
              [12 if (e + layer) % 2 == 0 else 4 for layer in range(2) for e in range(16)])
    # 3 layers of 256 experts (DeepSeek-V3's), top-8, skewed differently in each layer.
    counts = [[1 + ((e * (layer + 3)) % 97) ** 2 // 50 for e in range(256)] for layer in range(3)]
    with open(os.path.join(scratch, "counts.json"), "w", encoding="utf-8") as out:
        json.dump({"top_k": 8, "tokens_per_expert": counts}, out)
    for folder in ("base", "new", "baseline", "a", "b", "c"):
        run("run", "quickstart", "--profile", "roofline", "--out", folder, "-q")
    with open(os.path.join(scratch, "my-cluster.json"), "w", encoding="utf-8") as out:
        subprocess.run([moesim, "topology", "show", "h200x8", "--json"], stdout=out, check=True)


def main():
    moesim, source, scratch = (os.path.abspath(a) for a in sys.argv[1:4])
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    make_fixtures(moesim, source, scratch)
    files = [os.path.join(source, "README.md")]
    docs = os.path.join(source, "docs")
    files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    listed = subprocess.run([moesim, "list", "scenarios"], capture_output=True, text=True, check=True)
    scenarios = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    ran, failed = 0, []
    for path in files:
        inline = [(n, c, inline_runnable(c, scratch, scenarios)) for n, c in inline_commands(path)]
        # Inline spans that only name a command (`moesim run`) are prose, not examples.
        inline = [(n, c, why) for n, c, why in inline if len(c.split()) > 2]
        for number, command, inline_reason in [(n, c, None) for n, c in commands(path)] + inline:
            where = "%s:%d" % (os.path.relpath(path, source), number)
            reason = inline_reason or next((why for key, why in SKIPPED.items() if key in command),
                                           None)
            if reason is None and SYNOPSIS.search(command.split(" ", 1)[1]):
                reason = "a synopsis, not an example"
            if reason is None and "| dot " in command and shutil.which("dot") is None:
                reason = "Graphviz (dot) is not installed"
            if reason:
                print("skip %s: %s (%s)" % (where, command, reason))
                continue
            line = re.sub(r"^(\$B|moesim)\b", lambda _: moesim, command)
            result = subprocess.run(["bash", "-c", line], cwd=scratch, capture_output=True, text=True)
            allowed = (0, 1) if " check " in " %s " % command else (0,)
            ran += 1
            if result.returncode not in allowed:
                failed.append(where)
                print("FAIL %s: %s\n  exit %d\n%s" % (where, command, result.returncode,
                                                       result.stderr[-2000:]))
            else:
                print("ok   %s: %s" % (where, command))
        for number, command, lines in shown_outputs(path):
            where = "%s:%d" % (os.path.relpath(path, source), number)
            problem = check_shown_output(moesim, scratch, where, command, lines)
            ran += 1
            if problem:
                failed.append(where)
                print("FAIL %s: the output shown for %s is stale: %s" % (where, command, problem))
            else:
                print("ok   %s: output of %s as shown (%d lines)" % (where, command, len(lines)))
    print("%d commands run, %d failed" % (ran, len(failed)))
    return 1 if failed or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
