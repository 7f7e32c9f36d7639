#!/usr/bin/env python3
"""Side-by-side benchmark of `whyslow record` against `perf record` (+ inferno).

Measures, in one run on this machine:
  1. overhead on a CPU-bound workload at 99 Hz: no profiler, whyslow (frame
     pointers / DWARF), perf record -g, perf record --call-graph dwarf;
  2. time from the end of recording to a written flamegraph: whyslow vs
     perf script | inferno-collapse-perf | inferno-flamegraph;
  3. peak RSS of the profiler process (median over the runs: both profilers
     show occasional runs ~10 MiB above their usual peak, and the maximum of
     five runs reported those outliers rather than the typical size).
Prints a Markdown table with ratios. Not a test: it asserts nothing.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WS = os.path.join(ROOT, "target/release/whyslow")
W_FP = os.path.join(ROOT, "target/workload-fp/release/workload")
W_NOFP = os.path.join(ROOT, "target/workload-nofp/release/workload")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1000"))  # ~2 s of CPU
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
HZ = "99"


def run(cmd, stdout=subprocess.PIPE, shell=False):
    """Runs cmd; returns (wall_s, max_rss_kib, stdout_text)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL, shell=shell)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {cmd}")
    return wall, rusage.ru_maxrss, out.decode(errors="replace")


def elapsed_of(text):
    m = re.search(r"elapsed_ns=(\d+)", text)
    if not m:
        sys.exit("workload did not print elapsed_ns")
    return int(m.group(1)) / 1e9


def median(xs):
    return statistics.median(xs)


def main():
    tmp = tempfile.mkdtemp(prefix="whyslow-bench-")
    data = os.path.join(tmp, "perf.data")
    work = f"rounds={ROUNDS}"
    configs = {
        "no profiler": lambda w: [w, work],
        "whyslow record": lambda w: [WS, "record", "-q", "-F", HZ, "-o", os.path.join(tmp, "w.html"), "--", w, work],
        "perf record -g": lambda w: ["perf", "record", "-q", "-e", "cpu-clock", "-F", HZ, "-g", "-o", data, "--", w, work],
        "perf record --call-graph dwarf": lambda w: ["perf", "record", "-q", "-e", "cpu-clock", "-F", HZ,
                                                     "--call-graph", "dwarf", "-o", data, "--", w, work],
    }
    rows = []
    results = {}
    for build, w in (("frame pointers", W_FP), ("no frame pointers (DWARF)", W_NOFP)):
        for name, make in configs.items():
            if name == "perf record -g" and build.startswith("no"):
                continue  # -g without frame pointers gives truncated stacks; not comparable
            if name == "perf record --call-graph dwarf" and build == "frame pointers":
                continue
            elapsed, walls, rss, post = [], [], [], []
            for i in range(REPEAT):
                wall, maxrss, out = run(make(w))
                e = elapsed_of(out)
                elapsed.append(e)
                walls.append(wall)
                rss.append(maxrss)
                if name.startswith("perf"):
                    # Post-processing: perf script | inferno-collapse-perf | inferno-flamegraph.
                    t0 = time.perf_counter()
                    subprocess.run(f"perf script -i {data} 2>/dev/null | inferno-collapse-perf | "
                                   f"inferno-flamegraph > {tmp}/perf.svg", shell=True, check=True)
                    post.append(wall - e + time.perf_counter() - t0)
                elif name.startswith("whyslow"):
                    post.append(wall - e)
            results[(build, name)] = (median(elapsed), median(post) if post else None, median(rss),
                                     statistics.stdev(elapsed) if len(elapsed) > 1 else 0.0)
        base = results[(build, "no profiler")][0]
        for name in configs:
            if (build, name) not in results:
                continue
            e, post, rss, sd = results[(build, name)]
            rows.append((build, name, e, sd, 100.0 * (e / base - 1.0), post, rss if name != "no profiler" else None))

    print(f"Workload: tests/workload rounds={ROUNDS} (CPU-bound, 1 thread), {HZ} Hz, "
          f"median of {REPEAT} runs, event cpu-clock.\n")
    print("| build | profiler | workload time (s) | run-to-run σ (s) | overhead | end of recording → flamegraph (s) | profiler peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for build, name, e, sd, over, post, rss in rows:
        print(f"| {build} | {name} | {e:.3f} | {sd:.3f} | {over:+.2f} % | "
              f"{'' if post is None else f'{post:.3f}'} | {'' if rss is None else f'{rss / 1024:.1f}'} |")
    print()
    for build, ws_name, perf_name in (("frame pointers", "whyslow record", "perf record -g"),
                                      ("no frame pointers (DWARF)", "whyslow record", "perf record --call-graph dwarf")):
        ws = results[(build, ws_name)]
        pf = results[(build, perf_name)]
        print(f"- {build}: flamegraph ready {pf[1] / ws[1]:.1f}× faster than `{perf_name}` + "
              f"`perf script | inferno` ({ws[1]:.3f} s vs {pf[1]:.3f} s); "
              f"peak RSS {ws[2] / 1024:.1f} MiB vs {pf[2] / 1024:.1f} MiB ({ws[2] / pf[2]:.2f}×)")


if __name__ == "__main__":
    main()
