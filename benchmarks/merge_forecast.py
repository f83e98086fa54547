#!/usr/bin/env python3
"""The merge forecast and lane sync against git, whole process, side by side.

A repository of 1,000 files on main; a mission of 100 WPs in 8 chains (so 8 code lanes),
finalized by kitty; the mission branch and each lane branch made with git, each lane with a
commit per WP touching files under its own directory; then one commit on main after the lanes
forked. Timed, as medians of repeated runs:

- forecast: `spec-kitty merge --dry-run --json` (the whole merge made in memory: 8 lanes into
  the mission branch, then the target, then the squash) against the same merges done with git:
  per step `git merge-tree --write-tree` and `git commit-tree`, then the squash's merge-tree.
- sync: `spec-kitty lanes sync lane-a` of a lane behind its mission branch against `git merge
  --no-edit` of the same commit in that lane's worktree (both put back after every run).
- the views of the same mission, whole process (no budget): `dashboard --output` (the page,
  the forecast included), `status --all` and `doctor`.

Usage: benchmarks/merge_forecast.py [--bin build/tools] [--runs 7] [--keep DIR] [--json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_loop  # noqa: E402  (the generated mission)


def run(argv, cwd, env, ok=(0,)):
    r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode not in ok:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r.stdout.strip()


def timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(root, env, bin_dir, wps):
    git = lambda *a, ok=(0,): run(["git"] + list(a), root, env, ok)
    sk = lambda *a, ok=(0,): run([os.path.join(bin_dir, "spec-kitty")] + list(a), root, env, ok)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Bench")
    git("config", "user.email", "bench@kitty.invalid")
    for i in range(1000):
        path = os.path.join(root, "base/d%02d/f%04d.txt" % (i % 50, i))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("file %d\n" % i * 5)
    git("add", "-A")
    git("commit", "-qm", "base")
    sk("init", ".", "--ai", "claude", "--non-interactive")
    sk("agent", "mission", "create", "bench")
    files, _, _ = scale_loop.mission_files(wps)
    mdir = os.path.join(root, "kitty-specs/001-bench")
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(mdir, rel)), exist_ok=True)
        with open(os.path.join(mdir, rel), "w") as f:
            f.write(text)
    git("add", "-A")
    git("commit", "-qm", "plan")
    sk("agent", "mission", "finalize-tasks", "--mission", "bench")
    git("add", "-A")
    git("commit", "-qm", "finalized")
    lanes = json.load(open(os.path.join(mdir, "lanes.json")))
    mission = "kitty/mission-001-bench"
    git("branch", mission, "main")
    code = [l for l in lanes["lanes"] if l["lane_id"] != "lane-planning"]
    for lane in code:
        branch = "%s-%s" % (mission, lane["lane_id"])
        wt = os.path.join(root, ".worktrees/001-bench-%s" % lane["lane_id"])
        git("worktree", "add", "-q", "-b", branch, wt, mission)
        for wp in lane["wp_ids"]:
            n = int(wp[2:])
            path = os.path.join(wt, "src/w%02d/work.txt" % n)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("%s\n" % wp)
            base = os.path.join(wt, "base/d%02d/f%04d.txt" % (n % 50, n * 7))
            with open(base, "a") as f:
                f.write("%s was here\n" % wp)
            run(["git", "add", "-A"], wt, env)
            run(["git", "commit", "-qm", wp], wt, env)
    with open(os.path.join(root, "base/d49/f0999.txt"), "a") as f:
        f.write("main moved on\n")
    git("commit", "-qam", "main moves on")
    return mission, [("%s-%s" % (mission, l["lane_id"])) for l in code], code


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="build/tools")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--wps", type=int, default=100)
    p.add_argument("--json", action="store_true")
    p.add_argument("--keep", help="keep the project in this directory (for profiling)")
    args = p.parse_args()
    bin_dir = os.path.abspath(args.bin)
    base = tempfile.mkdtemp(prefix="kitty-forecast-")
    try:
        root = os.path.join(base, "project")
        os.makedirs(root)
        env = dict(os.environ, HOME=os.path.join(base, "home"), GIT_CONFIG_NOSYSTEM="1",
                   NO_COLOR="1")
        os.makedirs(env["HOME"])
        mission, lane_branches, code = build(root, env, bin_dir, args.wps)

        def forecast():
            # WPs are not approved here (lanes were made with git): the plan says so, exit 1;
            # the forecast is made all the same.
            out = run([os.path.join(bin_dir, "spec-kitty"), "merge", "--dry-run", "--json"],
                      root, env, ok=(0, 1))
            doc = json.loads(out)
            assert doc["forecast"]["completes"], doc["forecast"]

        def git_merges():
            running = run(["git", "rev-parse", mission], root, env)
            for branch in lane_branches + ["main"]:
                tree = run(["git", "merge-tree", "--write-tree", running, branch], root, env)
                running = run(["git", "commit-tree", tree.splitlines()[0], "-p", running, "-p",
                               branch, "-m", "merge " + branch], root, env)
            run(["git", "merge-tree", "--write-tree", "main", running], root, env)

        forecast_s = timed(forecast, args.runs)
        git_s = timed(git_merges, args.runs)

        # lane-a behind the mission branch by one commit that touches none of its files.
        wt = os.path.join(root, ".worktrees/001-bench-%s" % code[0]["lane_id"])
        run(["git", "worktree", "add", "-q", os.path.join(base, "mission-wt"), mission], root, env)
        with open(os.path.join(base, "mission-wt/base/d48/f0998.txt"), "a") as f:
            f.write("the mission branch moves on\n")
        run(["git", "commit", "-qam", "mission moves on"], os.path.join(base, "mission-wt"), env)
        lane_tip = run(["git", "rev-parse", "HEAD"], wt, env)

        def put_back():
            run(["git", "reset", "-q", "--hard", lane_tip], wt, env)

        def kitty_sync():
            out = run([os.path.join(bin_dir, "spec-kitty"), "lanes", "sync", code[0]["lane_id"],
                       "--json"], root, env)
            assert json.loads(out)["synced"] == [code[0]["lane_id"]], out

        def git_merge():
            run(["git", "merge", "-q", "--no-edit", mission], wt, env)

        sync_times, merge_times = [], []
        for _ in range(args.runs):
            put_back()
            sync_times.append(timed(kitty_sync, 1))
            put_back()
            merge_times.append(timed(git_merge, 1))
        put_back()
        sync_s, merge_s = statistics.median(sync_times), statistics.median(merge_times)

        sk = os.path.join(bin_dir, "spec-kitty")
        page = os.path.join(base, "dashboard.html")
        views = {
            "dashboard_output_ms": lambda: run([sk, "dashboard", "--output", page, "--json"], root,
                                               env),
            "status_all_ms": lambda: run([sk, "status", "--all", "--json"], root, env),
            "doctor_ms": lambda: run([sk, "doctor", "--json"], root, env, ok=(0, 1)),
        }
        view_ms = {k: round(timed(fn, args.runs) * 1000, 1) for k, fn in views.items()}
        report = {"wps": args.wps, "lanes": len(code), "files": 1000,
                  "forecast_ms": round(forecast_s * 1000, 1),
                  "git_merge_tree_ms": round(git_s * 1000, 1),
                  "forecast_over_git": round(forecast_s / git_s, 2),
                  "lanes_sync_ms": round(sync_s * 1000, 1),
                  "git_merge_ms": round(merge_s * 1000, 1),
                  "sync_over_git": round(sync_s / merge_s, 2), **view_ms}
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print("%d WPs, %d lanes, 1,000 files (medians of %d runs)" % (args.wps, len(code),
                                                                         args.runs))
            print("  forecast (merge --dry-run)      %8.1f ms; git merge-tree + commit-tree "
                  "%8.1f ms; ratio %.2f (budget <= 2)" % (report["forecast_ms"],
                                                          report["git_merge_tree_ms"],
                                                          report["forecast_over_git"]))
            print("  lanes sync of one stale lane    %8.1f ms; git merge in its worktree     "
                  "%8.1f ms; ratio %.2f (budget <= 1.5)" % (report["lanes_sync_ms"],
                                                            report["git_merge_ms"],
                                                            report["sync_over_git"]))
            print("  views: dashboard --output %.1f ms, status --all %.1f ms, doctor %.1f ms"
                  % (view_ms["dashboard_output_ms"], view_ms["status_all_ms"],
                     view_ms["doctor_ms"]))
        return 0
    finally:
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(base, args.keep, symlinks=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
