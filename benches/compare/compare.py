#!/usr/bin/env python3
"""The whole-process speed comparison of the README: `exflow map` of the standard orders
pipeline against jq and jaq running the same mapping (benches/compare/orders.jq) on one file
of generated orders, each pinned to one core (taskset -c 0).

Reports, per tool, the least and the median CPU time (user + system) over N runs, and orders
per second from the least. Checks first that all three print the same records.

Usage: python3 benches/compare/compare.py [ORDERS] [RUNS]   (defaults: 10000 orders, 7 runs)
Needs: a release build (cargo build --release), jq, jaq (cargo install jaq), taskset."""
import json, os, shutil, statistics, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
data = f"/tmp/exflow-orders-{n}.jsonl"
if not os.path.exists(data):
    with open(data, "w") as out:
        subprocess.run([sys.executable, os.path.join(here, "gen_orders.py"), str(n)], stdout=out, check=True)
exflow = os.path.join(root, "target", "release", "exflow")
tools = {
    "exflow map": [exflow, "map", "orders", "--input", data, "--project", root],
    "jq": ["jq", "-c", "-f", os.path.join(here, "orders.jq"), data],
    "jaq": ["jaq", "-c", "-f", os.path.join(here, "orders.jq"), data],
}
tools = {k: v for k, v in tools.items() if shutil.which(v[0]) or os.path.exists(v[0])}

# Same output first: the comparison is only fair on the same mapping.
outputs = {}
for name, cmd in tools.items():
    text = subprocess.run(cmd, capture_output=True, check=True).stdout.decode()
    outputs[name] = [json.loads(line) for line in text.splitlines()]
first = next(iter(outputs.values()))
for name, records in outputs.items():
    same = len(records) == len(first) and all(a == b for a, b in zip(records, first))
    print(f"{name}: {len(records)} records, {'same as' if same else 'DIFFERENT from'} {next(iter(outputs))}")

devnull = os.open(os.devnull, os.O_WRONLY)
times = {name: [] for name in tools}
for _ in range(runs):
    for name, cmd in tools.items():  # interleaved, so a noisy moment hits all alike
        pid = os.fork()
        if pid == 0:
            os.dup2(devnull, 1)
            os.execvp("taskset", ["taskset", "-c", "0"] + cmd)
        _, _, usage = os.wait4(pid, 0)
        times[name].append(usage.ru_utime + usage.ru_stime)
size = os.path.getsize(data) / 1e6
print(f"\n{n} orders of 10 lines ({size:.1f} MB), {runs} runs each, one core:")
for name, t in times.items():
    best = min(t)
    print(f"  {name:12s} least {best:6.3f} s  median {statistics.median(t):6.3f} s  {n / best:9,.0f} orders/s")
