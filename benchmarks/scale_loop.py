#!/usr/bin/env python3
"""The loop at scale, whole process: a generated mission of N work packages (WP00..WPnn in 8
dependency chains, so 8 execution lanes; 2-3 subtasks each), run from finalize-tasks to merged
on main by concurrent scripted agents, each a separate process calling `spec-kitty` as an agent
would. Some WPs are rejected once. Every kitty call is timed as a whole process (CPU from
wait4's rusage, wall around it); the status lock's wait and hold times come from kitty's
KITTY_LOCK_TRACE file. At the end the invariants are checked: every WP done once, unique event
ids, legal chains, no two WPs of one lane implemented at once, a clean checkout, no worktree or
lane branch left.

With --think MS, each agent spends MS milliseconds (±50 %, seeded) of its own between two kitty
calls, as an agent that reads and writes code does; with the default 0 the scripted agents call
kitty back to back, so 8 of them keep 2 cores busy and every call also waits for a core.

With --target-commits N, someone commits to main every N approved WPs meanwhile: a file no
lane touches and a line in a lane's file, which the loop must hand to an agent as a resolve
step; the agents resolve by keeping both sides' lines. Afterwards every such change must be on
main.

With --compare-with REPORT (the --json or --save report of a run on fewer WPs), the growth from that
run to this one is printed: per command, the growth of its CPU median; and for all loop calls,
this run's median over that run's median with that run's calls weighted to this run's mix of
commands. Idle agents ask `next` again and again on a small mission, where few WPs are ready,
so its plain median is mostly cheap `next` calls and compares different work. For the same
reason a `next` that answers "blocked" (it reads the state and answers; it claims nothing) is
its own command in the report, `next (blocked)`, beside `next` that hands out work.

Usage: benchmarks/scale_loop.py [--bin build/tools] [--wps 100] [--agents 8] [--reject 5]
                                [--target-commits N] [--think MS] [--keep DIR] [--json]
                                [--save FILE] [--compare-with REPORT]
Exit status: 0 when every invariant held, 1 otherwise.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CHAINS = 8


def wp_id(i):
    return "WP%02d" % i


def mission_files(n, seed=7):
    """tasks.md and WP files: WP i is in chain i % 8, depends on the chain's previous WP and,
    for about half of the rest, on the one before that (about 1.5 dependencies per WP)."""
    rnd = random.Random(seed)
    chains = {}
    deps = {}
    for i in range(n):
        chain = chains.setdefault(i % CHAINS, [])
        d = []
        if chain:
            d.append(chain[-1])
        if len(chain) >= 2 and rnd.random() < 0.7:
            d.append(chain[-2])
        deps[i] = sorted(d)
        chain.append(i)
    tasks = ["# Work Packages\n"]
    files = {}
    t = 1
    subtasks = {}
    for i in range(n):
        w = wp_id(i)
        count = 3 if i % 4 == 0 else 2
        ids = ["T%03d" % (t + k) for k in range(count)]
        t += count
        subtasks[w] = ids
        dep_text = ", ".join(wp_id(x) for x in deps[i]) or "None"
        tasks.append("\n## Work Package %s: Part %d\n\n**Dependencies**: %s\n\n" % (w, i, dep_text))
        tasks.extend("- [ ] %s step %s\n" % (s, s) for s in ids)
        files["tasks/%s-part-%d.md" % (w, i)] = (
            "---\nwork_package_id: %s\ntitle: Part %d\nrequirement_refs: [FR-001]\n"
            "dependencies: [%s]\nexecution_mode: code_change\nauthoritative_surface: src/w%02d/\n"
            "owned_files:\n- src/w%02d/**\n---\n\n# %s\n\nBuild part %d.\n"
            % (w, i, ", ".join(wp_id(x) for x in deps[i]), i, i, w, i))
    files["tasks.md"] = "".join(tasks)
    files["spec.md"] = "# Spec\n\n- FR-001 The parts work together.\n"
    files["plan.md"] = "# Plan\n\nParts in chains.\n"
    return files, subtasks, sum(len(d) for d in deps.values())


def timed(bin_dir, args, cwd, env, stdin=None):
    """Runs spec-kitty ARGS; returns (rc, stdout, stderr, cpu seconds, wall seconds)."""
    start = time.monotonic()
    r, w = os.pipe() if stdin is not None else (None, None)
    proc = subprocess.Popen([os.path.join(bin_dir, "spec-kitty")] + args, cwd=cwd, env=env,
                            stdin=r if r is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if w is not None:
        os.close(r)
        os.write(w, stdin.encode())
        os.close(w)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    return proc.returncode, out, err, usage.ru_utime + usage.ru_stime, wall


def resolve(decision, env):
    """A scripted resolution: each conflicting file keeps both sides' lines (markers removed),
    a file one side deleted keeps the other side's content; then the merge is committed."""
    ws = decision["workspace_path"]
    for c in decision["conflicts"]:
        path = os.path.join(ws, c["path"])
        if os.path.exists(path):
            kept = [l for l in open(path).read().splitlines(True)
                    if not l.startswith(("<<<<<<<", "=======", ">>>>>>>"))]
            with open(path, "w") as f:
                f.write("".join(kept))
    subprocess.run(["git", "-C", ws, "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", ws, "commit", "-q", "--no-edit"], check=True, env=env)


def agent_main(args):
    env = json.loads(os.environ["SCALE_ENV"])
    root = args.root
    name = args.agent_name
    subtasks = json.loads(open(os.path.join(args.state, "subtasks.json")).read())
    calls = open(os.path.join(args.state, "calls-%s.jsonl" % name), "w")
    mission = "001-scale"

    thinking = random.Random(name)

    def call(label, argv, cwd=root, stdin=None, ok=(0,)):
        if args.think:
            time.sleep(args.think / 1000.0 * thinking.uniform(0.5, 1.5))
        for _ in range(5):  # exit 75 is temporary (a lock held): an agent tries again
            rc, out, err, cpu, wall = timed(args.bin, argv + ["--json"], cwd, env, stdin)
            if rc != 75:
                break
            calls.write(json.dumps({"label": label, "cpu": cpu, "wall": wall, "rc": rc}) + "\n")
            time.sleep(0.2)
        doc = json.loads(out) if out.strip() else {}
        if label == "next" and doc.get("action") == "resolve":
            label = "resolve step"  # a call that answered a resolve step
        elif label == "next" and doc.get("kind") == "blocked":
            label = "next (blocked)"  # read and answered: nothing claimed
        calls.write(json.dumps({"label": label, "cpu": cpu, "wall": wall, "rc": rc}) + "\n")
        if rc not in ok:
            raise RuntimeError("%s: %s exit %d\n%s%s" % (name, " ".join(argv), rc,
                                                        out.decode(), err.decode()))
        return rc, doc

    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        _, d = call("next", ["next", "--agent", name, "--mission", mission], ok=(0, 1))
        kind = d.get("kind")
        if kind == "terminal":
            return 0
        if kind == "blocked" or (kind == "step" and d.get("action") is None):
            if kind == "step" or "report the step done" in (d.get("reason") or ""):
                call("next --result", ["next", "--agent", name, "--mission", mission,
                                       "--result", "success"], ok=(0, 1))
            else:
                time.sleep(0.05)
            continue
        action, wp = d.get("action"), d.get("wp_id")
        if action == "resolve":
            resolve(d, env)
            call("resolve done", ["next", "--agent", name, "--mission", mission, "--result",
                                  "success"], ok=(0, 1))
            continue
        if action == "accept":
            # As the accept prompt says: the gate, then the step reported done.
            call("accept", ["accept", "--mission", mission, "--actor", name], ok=(0, 1))
        if wp is None:
            # A mission step (accept): report it done.
            call("next --result", ["next", "--agent", name, "--mission", mission,
                                   "--result", "success"], ok=(0, 1))
            continue
        if action == "implement":
            _, claim = call("implement", ["agent", "action", "implement", wp, "--agent", name,
                                          "--mission", mission])
            ws = claim["workspace_path"]
            n = int(wp[2:])
            path = os.path.join(ws, "src/w%02d" % n, "%s.txt" % name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as f:
                f.write("%s by %s\n" % (wp, name))
            # A file the target may change too (--target-commits): the lane's line.
            with open(os.path.join(ws, "src/w%02d" % n, "shared.txt"), "a") as f:
                f.write("%s: lane line\n" % wp)
            subprocess.run(["git", "-C", ws, "add", "-A"], check=True, env=env)
            subprocess.run(["git", "-C", ws, "commit", "-qm", "%s by %s" % (wp, name)], check=True,
                           env=env)
            call("mark-status", ["agent", "tasks", "mark-status"] + subtasks[wp] +
                 ["--status", "done", "--agent", name, "--mission", mission])
            call("move-task", ["agent", "tasks", "move-task", wp, "--to", "for_review", "--agent",
                               name, "--mission", mission, "--note", "done"])
        elif action == "review":
            _, _ = call("review", ["agent", "action", "review", wp, "--agent", name,
                                   "--mission", mission])
            marker = os.path.join(args.state, "rejected-" + wp)
            reject = wp in args.reject_set.split(",")
            if reject:
                try:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                except FileExistsError:
                    reject = False
            if reject:
                call("move-task", ["agent", "tasks", "move-task", wp, "--to", "planned", "--agent",
                                   name, "--mission", mission, "--review-feedback-file", "-"],
                     stdin="Please redo %s.\n" % wp)
            else:
                call("move-task", ["agent", "tasks", "move-task", wp, "--to", "approved",
                                   "--agent", name, "--mission", mission])
    raise RuntimeError("%s: timed out" % name)


def percentile(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


def approved_count(root):
    last = {}
    log = os.path.join(root, "kitty-specs/001-scale/status.events.jsonl")
    try:
        for line in open(log):
            if line.strip():
                e = json.loads(line)
                last[e["wp_id"]] = e["to_lane"]
    except (OSError, ValueError):
        pass
    return sum(1 for lane in last.values() if lane in ("approved", "done"))


def commit_to_target(root, env, procs, every, n):
    """While the agents run: each time `every` more WPs are approved, someone commits to main a
    file no lane touches and a line in an approved WP's src/wNN/shared.txt, which that WP's lane
    also changed (a conflict the loop must hand to an agent). Returns {path: line} to find on
    main afterwards."""
    lines = {}
    if not every:
        return lines
    done_marks = 0
    while any(p.poll() is None for p in procs):
        time.sleep(0.05)
        approved = approved_count(root)
        while (done_marks + 1) * every <= approved and (done_marks + 1) * every <= n:
            done_marks += 1
            k = done_marks * every - 1
            own = "docs/target-%02d.txt" % done_marks
            shared = "src/w%02d/shared.txt" % k
            line = "main's change %d\n" % done_marks
            for rel in (own, shared):
                path = os.path.join(root, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "a") as f:
                    f.write(line)
                lines[rel] = line
            for _ in range(200):  # kitty's workflow commits hold git's index lock briefly
                if subprocess.run(["git", "-C", root, "add", own, shared], env=env,
                                  capture_output=True).returncode == 0 and \
                        subprocess.run(["git", "-C", root, "commit", "-q", "-m",
                                        "target change %d" % done_marks, "--", own, shared],
                                       env=env, capture_output=True).returncode == 0:
                    break
                time.sleep(0.02)
            else:
                raise RuntimeError("could not commit to the target")
    return lines


def check_invariants(root, n, env):
    problems = []
    log = os.path.join(root, "kitty-specs/001-scale/status.events.jsonl")
    events = [json.loads(line) for line in open(log) if line.strip()]
    ids = [e["event_id"] for e in events]
    if len(ids) != len(set(ids)):
        problems.append("duplicate event ids")
    last = {}
    for e in events:
        prev = last.get(e["wp_id"], None)
        if prev is not None and prev != e["from_lane"]:
            problems.append("chain break at %s: %s -> %s" % (e["wp_id"], prev, e["from_lane"]))
        last[e["wp_id"]] = e["to_lane"]
    for i in range(n):
        if last.get(wp_id(i)) != "done":
            problems.append("%s ends %s" % (wp_id(i), last.get(wp_id(i))))
        dones = sum(1 for e in events if e["wp_id"] == wp_id(i) and e["to_lane"] == "done")
        if dones != 1:
            problems.append("%s done %d times" % (wp_id(i), dones))
    # One agent per lane: replay the events, a lane's WPs in claimed/in_progress (not a
    # review claim) at one time must be held by one agent.
    lanes = json.load(open(os.path.join(root, "kitty-specs/001-scale/lanes.json")))
    lane_of = {wp: lane["lane_id"] for lane in lanes["lanes"] for wp in lane["wp_ids"]}
    active = {}
    overlaps = 0
    for e in events:
        wp = e["wp_id"]
        review = e.get("review_ref") == "action-review-claim"
        if e["to_lane"] in ("claimed", "in_progress") and not review:
            active[wp] = e["actor"]
            others = [w for w in active if w != wp and lane_of.get(w) == lane_of.get(wp)]
            if others:
                overlaps += 1
        else:
            active.pop(wp, None)
    status = subprocess.run(["git", "-C", root, "status", "--porcelain"], capture_output=True,
                            text=True, env=env).stdout
    if status.strip():
        problems.append("checkout not clean: " + status.strip().replace("\n", "; "))
    branches = subprocess.run(["git", "-C", root, "branch", "--list", "kitty/*"],
                              capture_output=True, text=True, env=env).stdout
    if branches.strip():
        problems.append("branches left: " + branches.strip().replace("\n", " "))
    wts = subprocess.run(["git", "-C", root, "worktree", "list", "--porcelain"],
                         capture_output=True, text=True, env=env).stdout
    if wts.count("worktree ") != 1:
        problems.append("worktrees left")
    return problems, overlaps, len(events)


LOOP_LABELS_LEFT_OUT = ("finalize-tasks", "merge")


def weighted_median(pairs):
    """The median of (value, weight) pairs: the value at half of the total weight."""
    pairs = sorted(pairs)
    half = sum(w for _, w in pairs) / 2.0
    run = 0.0
    for value, weight in pairs:
        run += weight
        if run >= half:
            return value
    return pairs[-1][0]


def growth(small, large):
    """Growth of per-call CPU from the report `small` to the report `large` (see --compare-with)."""
    s_cmds, l_cmds = small["commands"], large["commands"]
    shared = [c for c in l_cmds if c in s_cmds and c not in LOOP_LABELS_LEFT_OUT]
    pairs = []
    for label in shared:
        weight = l_cmds[label]["n"] / float(s_cmds[label]["n"])
        pairs.extend((x, weight) for x in s_cmds[label]["cpu_ms"])
    mix_from = weighted_median(pairs)
    return {
        "from_wps": small["wps"],
        "median_from": small["loop_call_cpu_ms_median"],
        "median_growth": round(large["loop_call_cpu_ms_median"] /
                               small["loop_call_cpu_ms_median"], 2),
        "mix_matched_from": round(mix_from, 2),
        "mix_matched_growth": round(large["loop_call_cpu_ms_median"] / mix_from, 2),
        "commands": {label: round(l_cmds[label]["cpu_ms_median"] / s_cmds[label]["cpu_ms_median"],
                                  2) for label in shared},
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="build/tools")
    p.add_argument("--wps", type=int, default=100)
    p.add_argument("--agents", type=int, default=8)
    p.add_argument("--reject", type=int, default=5, help="WPs rejected once in review")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--keep", help="keep the project in this directory")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--target-commits", type=int, default=0, metavar="N",
                   help="commit to main every N approved WPs, touching lane files too")
    p.add_argument("--think", type=float, default=0, metavar="MS",
                   help="each agent's own time between two kitty calls (default 0)")
    p.add_argument("--save", metavar="FILE", help="also write the --json report to FILE")
    p.add_argument("--compare-with", metavar="REPORT",
                   help="the --json report of a smaller run: print the growth from it")
    p.add_argument("--agent-name", help=argparse.SUPPRESS)
    p.add_argument("--root", help=argparse.SUPPRESS)
    p.add_argument("--state", help=argparse.SUPPRESS)
    p.add_argument("--reject-set", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.bin = os.path.abspath(args.bin)
    if args.agent_name:
        return agent_main(args)

    base = tempfile.mkdtemp(prefix="kitty-scale-")
    try:
        root = os.path.join(base, "project")
        state = os.path.join(base, "state")
        os.makedirs(root)
        os.makedirs(state)
        env = dict(os.environ, HOME=os.path.join(base, "home"), GIT_CONFIG_NOSYSTEM="1",
                   KITTY_LOCK_TRACE=os.path.join(state, "locks.tsv"), NO_COLOR="1")
        os.makedirs(env["HOME"])
        git = lambda *a: subprocess.run(["git", "-C", root] + list(a), check=True, env=env,
                                        stdout=subprocess.DEVNULL)
        git("init", "-q", "-b", "main")
        git("config", "user.name", "Scale Agent")
        git("config", "user.email", "scale@kitty.invalid")
        sk = lambda *a: subprocess.run([os.path.join(args.bin, "spec-kitty")] + list(a), cwd=root,
                                       env=env, check=True, stdout=subprocess.DEVNULL)
        sk("init", ".", "--ai", "claude", "--non-interactive")
        sk("agent", "mission", "create", "scale")
        files, subtasks, deps = mission_files(args.wps)
        mdir = os.path.join(root, "kitty-specs/001-scale")
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(mdir, rel)), exist_ok=True)
            with open(os.path.join(mdir, rel), "w") as f:
                f.write(text)
        git("add", "-A")
        git("commit", "-qm", "plan")
        with open(os.path.join(state, "subtasks.json"), "w") as f:
            json.dump(subtasks, f)
        calls = []
        rc, out, err, cpu, wall = timed(args.bin, ["agent", "mission", "finalize-tasks",
                                                   "--mission", "scale", "--json"], root, env)
        if rc != 0:
            raise RuntimeError("finalize: %s%s" % (out.decode(), err.decode()))
        calls.append({"label": "finalize-tasks", "cpu": cpu, "wall": wall, "rc": rc})
        git("add", "-A")
        git("commit", "-qm", "finalized")
        lanes = json.load(open(os.path.join(mdir, "lanes.json")))
        reject = [wp_id(i) for i in random.Random(3).sample(range(args.wps),
                                                             min(args.reject, args.wps))]
        start = time.monotonic()
        agent_env = dict(env, SCALE_ENV=json.dumps(env))
        procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--bin", args.bin,
                                   "--agent-name", "agent%d" % k, "--root", root, "--state", state,
                                   "--reject-set", ",".join(reject), "--timeout",
                                   str(args.timeout), "--think", str(args.think)], env=agent_env)
                 for k in range(args.agents)]
        target_lines = commit_to_target(root, env, procs, args.target_commits, args.wps)
        failed = [p.wait() for p in procs]
        loop_wall = time.monotonic() - start
        rc, out, err, cpu, wall = timed(args.bin, ["merge", "--mission", "scale", "--json"], root,
                                        env)
        calls.append({"label": "merge", "cpu": cpu, "wall": wall, "rc": rc})
        for k in range(args.agents):
            with open(os.path.join(state, "calls-agent%d.jsonl" % k)) as f:
                calls.extend(json.loads(line) for line in f if line.strip())
        problems, overlaps, n_events = check_invariants(root, args.wps, env)
        lost = [rel for rel, line in target_lines.items()
                if line not in subprocess.run(["git", "-C", root, "show", "main:" + rel],
                                              capture_output=True, text=True, env=env).stdout]
        if lost:
            problems.append("target changes lost: " + ", ".join(sorted(lost)))
        if any(failed):
            problems.append("an agent failed")
        if rc != 0:
            problems.append("merge exit %d: %s" % (rc, out.decode()[:300]))
        holds, waits = [], []
        trace = os.path.join(state, "locks.tsv")
        if os.path.exists(trace):
            for line in open(trace):
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3 and parts[0].endswith(".status.lock"):
                    waits.append(float(parts[1]) / 1000.0)
                    holds.append(float(parts[2]) / 1000.0)
        by_label = {}
        for c in calls:
            by_label.setdefault(c["label"], []).append(c)
        loop_calls = [c for c in calls if c["label"] not in LOOP_LABELS_LEFT_OUT]
        resolve_calls = [c for c in calls if c["label"] in ("resolve step", "resolve done")]
        report = {
            "wps": args.wps, "agents": args.agents, "think_ms": args.think, "dependencies": deps,
            "lanes": len([l for l in lanes["lanes"] if l["lane_id"] != "lane-planning"]),
            "events": n_events, "calls": len(calls), "loop_wall_s": round(loop_wall, 2),
            "cpu_total_s": round(sum(c["cpu"] for c in calls), 3),
            "wall_total_s": round(sum(c["wall"] for c in calls), 3),
            "loop_call_cpu_ms_median": round(1000 * statistics.median(
                c["cpu"] for c in loop_calls), 2),
            "wall_ms_p95": round(1000 * percentile([c["wall"] for c in loop_calls], 95), 1),
            "lock_hold_ms_p50": round(percentile(holds, 50), 2),
            "lock_hold_ms_p95": round(percentile(holds, 95), 2),
            "lock_wait_ms_p95": round(percentile(waits, 95), 2),
            "overlapping_implementations": overlaps,
            "target_changes": len(target_lines),
            "resolve_steps_done": sum(1 for c in calls if c["label"] == "resolve done"),
            "resolve_cpu_s": round(sum(c["cpu"] for c in resolve_calls), 3),
            "commands": {
                label: {"n": len(cs),
                        "cpu_ms_median": round(1000 * statistics.median(c["cpu"] for c in cs), 2),
                        "cpu_ms_p95": round(1000 * percentile([c["cpu"] for c in cs], 95), 2),
                        "wall_ms_median": round(1000 * statistics.median(c["wall"] for c in cs), 1),
                        "wall_ms_p95": round(1000 * percentile([c["wall"] for c in cs], 95), 1),
                        "cpu_ms": [round(1000 * c["cpu"], 3) for c in cs]}
                for label, cs in sorted(by_label.items())},
            "problems": problems,
        }
        report["wall_over_cpu"] = round(report["wall_total_s"] / max(report["cpu_total_s"], 1e-9), 2)
        if args.compare_with:
            report["growth"] = growth(json.load(open(args.compare_with)), report)
        if args.save:
            with open(args.save, "w") as f:
                json.dump(report, f, indent=2)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print("%d WPs, %d dependencies, %d lanes, %d agents%s: %d calls, %d events, loop %.1f s"
                  % (args.wps, deps, report["lanes"], args.agents,
                     " thinking %g ms" % args.think if args.think else "", len(calls), n_events,
                     loop_wall))
            print("  kitty CPU %.2f s total; loop call CPU median %.2f ms; wall p95 %.1f ms; "
                  "sum wall / sum CPU %.2f" % (report["cpu_total_s"],
                                                report["loop_call_cpu_ms_median"],
                                                report["wall_ms_p95"], report["wall_over_cpu"]))
            print("  status lock hold p50 %.2f ms, p95 %.2f ms (wait p95 %.2f ms); overlapping "
                  "implementations in one lane: %d" % (report["lock_hold_ms_p50"],
                                                      report["lock_hold_ms_p95"],
                                                      report["lock_wait_ms_p95"], overlaps))
            print("  %-16s %5s %10s %10s %10s %10s" % ("command", "n", "cpu med", "cpu p95",
                                                      "wall med", "wall p95"))
            for label, c in report["commands"].items():
                print("  %-16s %5d %8.2fms %8.2fms %8.1fms %8.1fms" % (
                    label, c["n"], c["cpu_ms_median"], c["cpu_ms_p95"], c["wall_ms_median"],
                    c["wall_ms_p95"]))
            if args.target_commits:
                print("  target: %d file changes committed meanwhile, all on main after the "
                      "merge unless a PROBLEM says otherwise; %d resolve steps done, kitty CPU "
                      "for resolve calls %.2f s" % (report["target_changes"],
                                                    report["resolve_steps_done"],
                                                    report["resolve_cpu_s"]))
            if "growth" in report:
                g = report["growth"]
                print("  growth from %d WPs: loop call CPU median %.2f -> %.2f ms (%.2fx); with "
                      "the %d-WP calls weighted to this mix %.2f -> %.2f ms (%.2fx)" % (
                          g["from_wps"], g["median_from"], report["loop_call_cpu_ms_median"],
                          g["median_growth"], g["from_wps"], g["mix_matched_from"],
                          report["loop_call_cpu_ms_median"], g["mix_matched_growth"]))
                print("  growth per command: " + ", ".join(
                    "%s %.2fx" % (label, x) for label, x in g["commands"].items()))
            for problem in problems:
                print("  PROBLEM: " + problem)
        return 1 if problems else 0
    finally:
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(base, args.keep, symlinks=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
