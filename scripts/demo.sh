#!/usr/bin/env bash
# `make demo`: the main job on the bundled example project, in a scratch copy.
set -euo pipefail
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/examples/demo-project" "$work/project"
cd "$work/project"
export PATH="$bin:$PATH"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

step spec-kitty --version
echo "# a new project: files only, no git, command files in each agent's own directory"
(cd "$work" && step spec-kitty init fresh --ai codex,claude --non-interactive &&
    step ls -A fresh fresh/.kittify fresh/.codex/prompts &&
    step spec-kitty init fresh --ai codex,claude)
step spec-kitty agent mission create demo-feature
step spec-kitty agent mission create demo-feature --json
id=$(kitty-mint-id stamp 002-demo-feature | sed -n 's/.*"mission_id": "\([0-9A-Z]*\)".*/\1/p')
step kitty-mint-id decode "$id" --format text
echo "# a legacy mission without a mission_id gets one, on request:"
step spec-kitty agent mission stamp-id legacy-search
step cat kitty-specs/001-legacy-search/meta.json
step spec-kitty mint-id --count 3
echo "# its work packages: WP02 needs WP01, WP03 is independent, WP04 is a planning artifact"
step kitty-parse-tasks kitty-specs/001-legacy-search --format text
step spec-kitty lanes explain legacy-search --target-branch main
step sh -c 'kitty-parse-tasks kitty-specs/001-legacy-search | kitty-lanes compute - --target-branch main | head -12'
step spec-kitty lanes compute legacy-search --target-branch main --write --json
step spec-kitty lanes resolve legacy-search WP03
step spec-kitty lanes resolve legacy-search WP04
echo "# finalize: every check first, then frontmatter, lanes.json and the status log together"
step spec-kitty agent mission finalize-tasks --mission legacy-search --validate-only
step spec-kitty agent mission finalize-tasks --mission legacy-search
echo "# status: every WP planned, then WP01 is picked up"
step spec-kitty status move legacy-search WP01 --to claimed --actor demo
step spec-kitty agent tasks status --mission legacy-search
printf '\ndemo: OK (project was %s, now removed)\n' "$work/project"
