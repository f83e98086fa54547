#!/usr/bin/env bash
# `make demo`: one mission of the bundled example (examples/demo-project) from `spec-kitty
# init` to merged on main, in a fresh repository in a temp directory, with a scripted agent
# doing the work. Usage: scripts/demo.sh <dir with the built tools>. With KITTY_DEMO_DIR=<dir>
# the project is built in <dir>/project and kept (the end-to-end test reads it).
set -euo pipefail
bin=$(cd "$1" && pwd)
# The dashboard page of the merged mission outlives the temp directory.
dashboard=${KITTY_DEMO_DASHBOARD:-$(dirname "$bin")/demo-dashboard.html}
here=$(cd "$(dirname "$0")/.." && pwd)
example=examples/demo-project/kitty-specs/001-legacy-search
if [ -n "${KITTY_DEMO_DIR:-}" ]; then
    mkdir -p "$KITTY_DEMO_DIR"
    work=$(cd "$KITTY_DEMO_DIR" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
# A fresh machine: no user or system git configuration, no inherited repository.
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 PATH="$bin:$PATH"
unset XDG_CONFIG_HOME GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
    GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
mkdir -p "$HOME"
mkdir "$work/project" # a kept project is never overwritten
cp -r "$here/$example" "$work/example"
cd "$work/project"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
# The command line as one would type it.
show() {
    local line='' a
    for a in "$@"; do
        [[ $a =~ ^[][A-Za-z0-9_./:=@,+-]+$ ]] || a="'$a'"
        line+="${line:+ }$a"
    done
    printf '\n%s$ %s%s\n' "$bold" "$line" "$plain"
}
step() { show "$@"; "$@"; }
# A command the story has already shown in full: its first line only.
brief() {
    local out
    show "$@"
    out=$("$@")
    printf '%s\n' "${out%%$'\n'*}"
}
say() { printf '\n# %s\n' "$*"; }
# The agent writes a file (shown as the command it amounts to).
write() {
    printf "\n%s\$ echo '%s' > %s%s\n" "$bold" "$2" "$1" "$plain"
    mkdir -p "$(dirname "$1")"
    printf '%s\n' "$2" >"$1"
}
# `spec-kitty next`, shown with its decision in one line; sets kind, state, action, wp, ws.
next() {
    show spec-kitty next --agent claude ${1:+--result "$1"}
    spec-kitty next --agent claude ${1:+--result "$1"} --json >"$work/decision.json"
    IFS=$'\x1f' read -r kind state action wp ws reason < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("\x1f".join("" if d[k] is None else str(d[k])
                for k in ("kind", "mission_state", "action", "wp_id", "workspace_path", "reason")))
' "$work/decision.json")
    ws=${ws#"$PWD"}
    ws=${ws#/}
    if [ "$kind" = terminal ]; then
        printf '  -> terminal: %s\n' "$reason"
    else
        printf '  -> %s %s: %s%s%s\n' "$kind" "$state" "$action" "${wp:+ $wp}" \
            "${wp:+ in ${ws:-the main checkout}}"
    fi
}

say "a new repository on main, its identity in the repo config; kitty init; the mission"
step spec-kitty --version
step git init -q -b main
step git config user.name "Demo Agent"
step git config user.email demo@kitty.invalid
step spec-kitty init --ai claude --non-interactive
step spec-kitty agent mission create legacy-search
mission=kitty-specs/001-legacy-search
step git add -A
step git commit -qm "Start mission legacy-search"

say "planning: next issues each step; the agent writes what it asks for (from $example)"
next
for _ in 1 2 3 4 5 6 7; do
    case $action in
    specify) step cp ../example/spec.md $mission/ ;;
    plan) step cp ../example/plan.md $mission/ ;;
    tasks-outline) step cp ../example/tasks.md $mission/ ;;
    tasks-packages) step cp -r ../example/tasks $mission/ ;;
    tasks-finalize)
        say "WP02 needs WP01 (lane-a), WP03 is independent (lane-b), WP04 is planning (main checkout)"
        step spec-kitty agent mission finalize-tasks --mission legacy-search
        step spec-kitty lanes explain legacy-search
        step git add -A
        step git commit -qm "Plan mission legacy-search"
        say "the loop: each WP implemented and committed in its workspace, then reviewed; WP02 once rejected"
        ;;
    esac
    next success
    [ "$state" != implement ] || break
done
[ "$state" = implement ] || { echo "demo: planning did not reach implement" >&2; exit 1; }

file_of() {
    case $1 in
    WP01) echo src/search/index/index.py ;;
    WP02) echo src/search/api/search.py ;;
    WP03) echo src/cli/notes_search.py ;;
    WP04) echo $mission/quickstart.md ;;
    esac
}
tasks_of() {
    case $1 in
    WP01) echo T001 T002 ;; WP02) echo T003 T004 ;; WP03) echo T005 ;; WP04) echo T006 ;;
    esac
}
rejected='' shown=''
for _ in $(seq 40); do
    case $kind/$action in
    terminal/*) break ;;
    step/implement | step/review)
        # After the first of each, an action's prompt pointers are left out.
        if [[ $shown == *"$action"* ]]; then show_action=brief; else show_action=step; fi
        shown+=" $action"
        $show_action spec-kitty agent action "$action" "$wp" --agent claude
        ;;&
    step/implement)
        git=(git)
        [ -z "$ws" ] || git+=(-C "$ws")
        if [ "$wp" = WP02 ] && [ -n "$rejected" ]; then
            file=src/search/api/test_search.py
            write "${ws:+$ws/}$file" "# $wp: a test for the ranking, as the review asked"
        else
            file=$(file_of "$wp")
            write "${ws:+$ws/}$file" "# $wp: $(sed -n 's/^title: //p' $mission/tasks/"$wp"-*.md)"
        fi
        step "${git[@]}" add "$file"
        step "${git[@]}" commit -qm "$wp: $(basename "$file")"
        if [ "$wp" != WP02 ] || [ -z "$rejected" ]; then
            # shellcheck disable=SC2046 # one argument per subtask
            step spec-kitty agent tasks mark-status $(tasks_of "$wp") --status 'done'
        fi
        step spec-kitty agent tasks move-task "$wp" --to for_review --agent claude --note "ready"
        ;;
    step/review)
        if [ "$wp" = WP02 ] && [ -z "$rejected" ]; then
            rejected=yes
            # The feedback comes on standard input ("-"); a file must lie inside the project.
            printf '\n%s$ %s%s\n' "$bold" "spec-kitty agent tasks move-task $wp --to planned \
--agent claude --review-feedback-file - <<<'Add a test for the ranking.'" "$plain"
            spec-kitty agent tasks move-task "$wp" --to planned --agent claude \
                --review-feedback-file - <<<'Add a test for the ranking.'
        else
            step spec-kitty agent tasks move-task "$wp" --to approved --agent claude
        fi
        ;;
    step/accept) step spec-kitty accept --mission legacy-search ;;
    esac
    next success
done
[ "$kind" = terminal ] || { echo "demo: the loop did not reach terminal" >&2; exit 1; }

say "merge: the lanes into the mission branch, that onto main as one commit; every WP done"
step spec-kitty merge
step git log --oneline --graph
step git status --short
step spec-kitty agent tasks status --mission legacy-search
say "dashboard: the merged mission as one web page, kept beside the tools"
step spec-kitty dashboard --mission legacy-search --output "$dashboard"
if [ -n "${KITTY_DEMO_DIR:-}" ]; then
    printf '\ndemo: OK (project kept in %s)\n' "$work/project"
else
    printf '\ndemo: OK (project was %s, now removed)\n' "$work/project"
fi
