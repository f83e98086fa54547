#include "acceptance.hpp"

#include <algorithm>
#include <cstdlib>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/loop.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "loop_transaction.hpp"
#include "merge_plan.hpp"

namespace fs = std::filesystem;

namespace kitty::loop {

std::vector<AcceptanceProblem> acceptance_problems(const AcceptanceFacts& f) {
    std::vector<AcceptanceProblem> out;
    const auto add = [&out](std::string code, std::string message, fs::path path, int line,
                            std::string fix) {
        out.push_back({std::move(code), std::move(message), std::move(path), line, std::move(fix)});
    };
    if (f.wps.empty()) {
        add("NO_WORK_PACKAGES", "the mission has no work packages", {}, 0,
            "write tasks/WP*.md and run spec-kitty agent mission finalize-tasks --mission " +
                f.slug);
    }
    for (const AcceptanceFacts::Wp& wp : f.wps) {
        if (!kApprovedLanes.contains(wp.lane)) {
            add("WP_NOT_APPROVED", wp.id + " is " + lane_name(wp.lane) + ", not approved or done",
                wp.file, 0, "finish and review it: spec-kitty next hands it out");
        }
    }
    if (f.strict) {
        for (const AcceptanceFacts::Wp& wp : f.wps) {
            for (const auto& [key, value] :
                 {std::pair{"agent", &wp.agent}, std::pair{"shell_pid", &wp.shell_pid}}) {
                if (value->empty()) {
                    add("MISSING_METADATA", wp.id + " has no " + key + " in its frontmatter",
                        wp.file, 0,
                        std::string("set ") + key + ", or pass --lenient to accept without it");
                }
            }
            if ((wp.lane == WpLane::in_progress || wp.lane == WpLane::for_review) &&
                wp.assignee.empty()) {
                add("MISSING_METADATA", wp.id + " has no assignee in its frontmatter", wp.file, 0,
                    "set assignee, or pass --lenient to accept without it");
            }
        }
    }
    for (const auto& [line, text] : f.unchecked) {
        add("UNCHECKED_SUBTASK", "subtask not done: " + text, f.tasks_md, line,
            "finish it, then spec-kitty agent tasks mark-status <id> --status done");
    }
    for (const auto& [file, line] : f.clarifications) {
        add("NEEDS_CLARIFICATION", "a [NEEDS CLARIFICATION] marker is left", file, line,
            "answer the question and remove the marker");
    }
    for (const fs::path& file : f.missing_artifacts) {
        add("MISSING_ARTIFACT", file.filename().string() + " does not exist", file, 0,
            "write it: spec.md, plan.md and tasks.md are required");
    }
    if (!f.dirty.empty()) {
        add("MAIN_CHECKOUT_DIRTY", "the main checkout has uncommitted changes: " + join(f.dirty),
            {}, 0, "commit them, or move them out of the checkout");
    }
    if (!f.lanes_present) {
        add("MISSING_LANES", "the mission has no lanes.json", f.lanes_json, 0,
            "spec-kitty agent mission finalize-tasks --mission " + f.slug);
    }
    for (const Json& p : f.merge_problems) {
        add(p.value("code", "MERGE_PROBLEM"), p.value("message", ""), {}, 0,
            p.value("code", "") == "MERGE_CONFLICT_FORECAST"
                ? "spec-kitty next hands the conflict out as a resolve step"
                : "spec-kitty merge --dry-run --mission " + f.slug + " says more");
    }
    return out;
}

namespace {

// tasks.md's unchecked boxes, as 3.1.1 finds them (^\s*-\s*\[ \]).
std::vector<std::pair<int, std::string>> unchecked_lines(const fs::path& tasks_md) {
    static const Regex unchecked(R"(^\s*-\s*\[ \])");
    std::vector<std::pair<int, std::string>> out;
    std::error_code ec;
    if (!fs::is_regular_file(tasks_md, ec)) {
        return out;
    }
    for_each_stripped_line(read_text_file(tasks_md, Bom::strip), [&](int n, std::string_view l) {
        if (RE2::PartialMatch(re2::StringPiece(l.data(), l.size()), unchecked)) {
            out.emplace_back(n, std::string(py_strip(l)));
        }
    });
    return out;
}

std::vector<std::pair<fs::path, int>> clarification_markers(const fs::path& dir) {
    std::vector<std::pair<fs::path, int>> out;
    std::error_code ec;
    for (const char* name :
         {"spec.md", "plan.md", "quickstart.md", "tasks.md", "research.md", "data-model.md"}) {
        const fs::path file = dir / name;
        if (!fs::is_regular_file(file, ec)) {
            continue;
        }
        for_each_stripped_line(read_text_file(file, Bom::strip), [&](int n, std::string_view l) {
            if (l.find("[NEEDS CLARIFICATION") != std::string_view::npos) {
                out.emplace_back(file, n);
            }
        });
    }
    return out;
}

} // namespace

AcceptanceFacts read_acceptance_facts(LoopState& state, bool strict) {
    const Mission& m = state.mission;
    AcceptanceFacts f;
    f.slug = m.slug();
    f.strict = strict;
    for (const LoopWp& wp : state.wps) {
        AcceptanceFacts::Wp w{wp.id, wp.has_events ? wp.lane : WpLane::planned, wp.file(), "", "",
                              ""};
        if (strict) {
            const WpFrontmatter front = read_wp_file(wp.file());
            w.agent = front.scalar_text("agent");
            w.shell_pid = front.scalar_text("shell_pid");
            w.assignee = front.scalar_text("assignee");
        }
        f.wps.push_back(std::move(w));
    }
    f.tasks_md = m.tasks_md();
    f.unchecked = unchecked_lines(f.tasks_md);
    f.clarifications = clarification_markers(m.dir());
    std::error_code ec;
    for (const char* name : kRequiredArtifacts) {
        if (!fs::is_regular_file(m.dir() / name, ec)) {
            f.missing_artifacts.push_back(m.dir() / name);
        }
    }
    Repository& repo = loop_repository(m);
    f.dirty = repo.changed_paths();
    f.lanes_json = m.lanes_json();
    f.lanes_present = state.lanes.has_value();
    if (state.lanes) {
        register_kitty_merge_drivers();
        merge_detail::Plan plan = merge_detail::make_plan(state, MergeRequest{}, true);
        const merge_detail::MergeForecast forecast =
            merge_detail::forecast_merge(repo, *state.lanes, plan);
        merge_detail::refuse_forecast_conflicts(forecast, plan.mission_branch, plan);
        for (const Json& p : plan.problems) {
            // Said above in the acceptance's own words.
            const std::string code = p.value("code", "");
            if (code != "WP_NOT_APPROVED" && code != "MAIN_CHECKOUT_DIRTY") {
                f.merge_problems.push_back(p);
            }
        }
    }
    return f;
}

Json problem_json(const AcceptanceProblem& p) {
    return Json{{"code", p.code},
                {"message", p.message},
                {"path", p.path.empty() ? Json(nullptr) : Json(p.path.string())},
                {"line", p.line > 0 ? Json(p.line) : Json(nullptr)},
                {"fix", p.fix}};
}

} // namespace kitty::loop

namespace kitty {
namespace {

// 3.1.1's accepted_by: --actor, else $USER, else $USERNAME, else "system".
std::string acceptor(const std::string& actor) {
    std::string who = actor;
    for (const char* var : {"USER", "USERNAME"}) {
        if (py_strip(who).empty()) {
            const char* value = std::getenv(var);
            who = value != nullptr ? value : "";
        }
    }
    who = std::string(py_strip(who));
    return who.empty() ? "system" : who;
}

constexpr std::size_t kHistoryCap = 20; // 3.1.1's HISTORY_CAP

std::string checked_mode(std::string mode) {
    std::transform(mode.begin(), mode.end(), mode.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (mode != "auto" && mode != "pr" && mode != "local" && mode != "checklist") {
        throw Error(Exit::usage, "BAD_MODE", "--mode must be auto, pr, local or checklist",
                    "auto picks pr when the repository has a remote, else local");
    }
    return mode;
}

// The gate's checks, as the summary every answer carries and as lines for the text.
struct GateReport {
    Json summary;
    std::string text;
    std::size_t problems = 0;
};

GateReport gate_report(const Mission& m, const loop::AcceptanceFacts& facts) {
    const std::vector<loop::AcceptanceProblem> problems = loop::acceptance_problems(facts);
    GateReport report;
    report.problems = problems.size();
    Json listed = Json::array();
    for (const loop::AcceptanceProblem& p : problems) {
        listed.push_back(loop::problem_json(p));
        report.text +=
            "  - " +
            (p.path.empty()
                 ? ""
                 : p.path.string() + (p.line > 0 ? ":" + std::to_string(p.line) : "") + ": ") +
            p.message + " (" + p.fix + ")\n";
    }
    Json wps = Json::array();
    for (const auto& wp : facts.wps) {
        wps.push_back(Json{{"id", wp.id}, {"lane", wp.lane}});
    }
    report.summary = Json{{"mission_slug", m.slug()},
                          {"work_packages", wps},
                          {"problems", listed},
                          {"ok", problems.empty()}};
    return report;
}

// Unmet checks (exit 1), or --mode checklist's answer: nothing is written.
Outcome checklist_outcome(const Mission& m, const GateReport& report) {
    Outcome out;
    out.exit = report.problems == 0 ? Exit::ok : Exit::check_failed;
    if (report.problems == 0) {
        out.document =
            Json{{"result", "ready"}, {"mode", "checklist"}, {"summary", report.summary}};
        out.text = m.slug() + " is ready to be accepted (checklist: nothing written)\n";
        return out;
    }
    const std::string error = "cannot accept " + m.slug() + ": " + std::to_string(report.problems) +
                              " unmet check" + (report.problems == 1 ? "" : "s") +
                              "; nothing written";
    out.document = Json{{"error", error},
                        {"code", "ACCEPTANCE_CHECKS_FAILED"},
                        {"hint", "fix each problem listed, then accept again"},
                        {"summary", report.summary}};
    out.text = error + "\n" + report.text;
    return out;
}

// meta.json with this acceptance recorded, its history capped as 3.1.1 caps it.
Json accepted_meta(Json meta, const std::string& at, const std::string& accepted_by,
                   const std::string& mode, const std::string& parent) {
    meta["accepted_at"] = at;
    meta["accepted_by"] = accepted_by;
    meta["acceptance_mode"] = mode;
    meta.erase("accepted_from_commit");
    meta.erase("accept_commit");
    Json entry{{"accepted_at", at}, {"accepted_by", accepted_by}, {"acceptance_mode", mode}};
    if (!parent.empty()) {
        meta["accepted_from_commit"] = parent;
        entry["accepted_from_commit"] = parent;
    }
    Json history = meta.contains("acceptance_history") && meta["acceptance_history"].is_array()
                       ? meta["acceptance_history"]
                       : Json::array();
    history.push_back(entry);
    while (history.size() > kHistoryCap) {
        history.erase(history.begin());
    }
    meta["acceptance_history"] = history;
    return meta;
}

struct Acceptance {
    std::string at;
    std::string commit; // empty when nothing was committed
};

// Records the acceptance in meta.json, timed under the commit lock, and commits it.
Acceptance record_acceptance(const Mission& m, const std::string& accepted_by,
                             const std::string& mode, const std::string& parent) {
    loop::check_workflow_commit(m);
    const FileLock commits = loop::lock_commits(m);
    const std::string at = python_isoformat(now_utc());
    Json meta =
        accepted_meta(load_meta(m.dir()).value_or(Json::object()), at, accepted_by, mode, parent);
    const fs::path meta_rel = (m.dir() / "meta.json").lexically_relative(m.project_root());
    m.writable(m.dir() / "meta.json");
    write_meta(m.dir(), meta);
    const std::string accept_commit = loop::commit_workflow(m, {meta_rel}, "Accept " + m.slug());
    if (!accept_commit.empty()) {
        // 3.1.1 records the commit in meta.json afterwards and leaves that uncommitted; kitty
        // commits it too, so the main checkout stays clean for the merge.
        meta["accept_commit"] = accept_commit;
        meta["acceptance_history"].back()["accept_commit"] = accept_commit;
        write_meta(m.dir(), meta);
        loop::commit_workflow(m, {meta_rel}, "Record the acceptance commit of " + m.slug());
    }
    return {at, accept_commit};
}

} // namespace

Outcome accept_command(const AcceptRequest& request) {
    const std::string mode = checked_mode(request.mode);
    register_kitty_merge_drivers();
    // Read without the status lock, which the hand-offs need: the gate writes only meta.json,
    // under the commit lock.
    loop::LoopState state = loop::read_loop_state(loop::open_loop_mission(request.target));
    const Mission& m = state.mission;
    Repository& repo = loop::loop_repository(m);
    const GateReport report = gate_report(m, loop::read_acceptance_facts(state, !request.lenient));
    if (report.problems > 0 || mode == "checklist") {
        return checklist_outcome(m, report);
    }
    const std::string resolved = mode == "auto" ? (repo.has_remotes() ? "pr" : "local") : mode;
    const std::string accepted_by = acceptor(request.actor);
    const std::string parent = repo.resolve_commit("HEAD").value_or("");
    Json doc{{"accepted_at", nullptr},
             {"accepted_by", accepted_by},
             {"mode", resolved},
             {"parent_commit", parent.empty() ? Json(nullptr) : Json(parent)},
             {"accept_commit", nullptr},
             {"commit_created", false}};
    if (request.no_commit) {
        doc["summary"] = report.summary;
        return Outcome::success(doc, m.slug() + " passes every check (--no-commit: nothing "
                                                "written)\n");
    }
    const auto [at, accept_commit] = record_acceptance(m, accepted_by, resolved, parent);
    doc["accepted_at"] = at;
    doc["accept_commit"] = accept_commit.empty() ? Json(nullptr) : Json(accept_commit);
    doc["commit_created"] = !accept_commit.empty();
    doc["notes"] = Json::array();
    if (!accept_commit.empty()) {
        doc["notes"].push_back("Acceptance commit: " + accept_commit);
    }
    if (!parent.empty()) {
        doc["notes"].push_back("Accepted from parent commit: " + parent);
    }
    doc["next_command"] = "spec-kitty merge --mission " + m.slug();
    doc["summary"] = report.summary;
    return Outcome::success(
        doc, "Accepted " + m.slug() + " (" + resolved + ", by " + accepted_by + ")" +
                 (accept_commit.empty() ? "" : ", commit " + accept_commit.substr(0, 7)) +
                 "\nNext: spec-kitty merge --mission " + m.slug() + "\n");
}

} // namespace kitty
