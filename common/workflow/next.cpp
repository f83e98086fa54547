// `spec-kitty next` (next-loop.md §2-§3 with the fixes of §10-§11): the mission run kept in
// 3.1.1's run-state files under .kittify/runtime/, one issued step, and work packages handed
// out by dependencies and claims.
#include <algorithm>
#include <functional>
#include <random>
#include <set>

#include "acceptance.hpp"
#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/digest.hpp"
#include "kitty/error.hpp"
#include "kitty/liveness.hpp"
#include "kitty/loop.hpp"
#include "kitty/templates.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "loop_decisions.hpp"
#include "loop_model.hpp"
#include "merge_plan.hpp"
#include "resolve.hpp"

namespace fs = std::filesystem;

namespace kitty {

namespace next_detail {

using loop::LoopState;
using loop::LoopWp;

using loop::is_wp_step;
using loop::MissionStep;

struct StepDef {
    MissionStep step;
    std::string_view id;
    std::string_view action;
    std::string_view command;       // its agent command template (templates/init/commands)
    std::string_view loop_template; // else the loop's own prompt template, if any
};

// software-dev's nine steps (§2.1), each depending on the one before.
constexpr StepDef kSteps[] = {
    {MissionStep::discovery, "discovery", "research", "research", ""},
    {MissionStep::specify, "specify", "specify", "specify", ""},
    {MissionStep::plan, "plan", "plan", "plan", ""},
    {MissionStep::tasks_outline, "tasks_outline", "tasks-outline", "tasks-outline", ""},
    {MissionStep::tasks_packages, "tasks_packages", "tasks-packages", "tasks-packages", ""},
    {MissionStep::tasks_finalize, "tasks_finalize", "tasks-finalize", "", "loop/tasks-finalize.md"},
    {MissionStep::implement, "implement", "implement", "", ""},
    {MissionStep::review, "review", "review", "", ""},
    {MissionStep::accept, "accept", "accept", "", "loop/accept.md"},
};

const StepDef* step_def(const std::string& id) {
    for (const StepDef& s : kSteps) {
        if (s.id == id) {
            return &s;
        }
    }
    return nullptr;
}

// kSteps is indexed by MissionStep.
static_assert([] {
    for (std::size_t i = 0; i < std::size(kSteps); ++i) {
        if (static_cast<std::size_t>(kSteps[i].step) != i) {
            return false;
        }
    }
    return std::size(kSteps) == static_cast<std::size_t>(MissionStep::accept) + 1;
}());

const StepDef& step_def(MissionStep step) {
    return kSteps[static_cast<std::size_t>(step)];
}

std::string step_name(MissionStep step) {
    return std::string(step_def(step).id);
}

std::optional<std::string> step_name(const std::optional<MissionStep>& step) {
    return step ? std::optional(step_name(*step)) : std::nullopt;
}

// Whether a rendered step id names a WP step.
bool is_wp_step(const std::string& id) {
    const StepDef* def = step_def(id);
    return def && is_wp_step(def->step);
}

std::string random_hex(std::size_t bytes) {
    std::random_device rd;
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        const unsigned v = rd() & 0xff;
        out += digits[v >> 4];
        out += digits[v & 15];
    }
    return out;
}

// The runtime's actor: the agent, or kitty itself for events no agent caused.
Json actor_json(const std::string& agent) {
    return Json{{"actor_id", agent.empty() ? "kitty" : agent},
                {"actor_type", agent.empty() ? "service" : "llm"},
                {"display_name", ""},
                {"model", nullptr},
                {"provider", nullptr},
                {"tool", nullptr}};
}

// The run of a mission as 3.1.1's runtime keeps it: the index entry, the run directory and
// state.json (all of it, so keys kitty does not use survive).
class Run {
public:
    Run(const Mission& m, bool may_write) : m_(m), may_write_(may_write) {
        root_ = m.project_root() / ".kittify/runtime";
        index_path_ = root_ / "feature-runs.json";
        load();
    }

    bool exists() const { return exists_; }
    const std::string& run_id() const { return run_id_; }

    // The issued step (load refuses a run state whose issued step is not software-dev's).
    std::optional<MissionStep> issued() const {
        const auto name = text_or_null("issued_step_id");
        const StepDef* def = name ? step_def(*name) : nullptr;
        return def ? std::optional(def->step) : std::nullopt;
    }
    std::optional<std::string> blocked_reason() const { return text_or_null("blocked_reason"); }
    // The completed steps that are software-dev's (another name completes none of them).
    std::vector<MissionStep> completed() const {
        std::vector<MissionStep> out;
        if (const Json* c = JsonInput::member(state_, "completed_steps"); c && c->is_array()) {
            for (const Json& s : *c) {
                if (const StepDef* def = s.is_string() ? step_def(s.get<std::string>()) : nullptr) {
                    out.push_back(def->step);
                }
            }
        }
        return out;
    }

    // A run for a mission kitty has not run yet: finalized missions (a status log and WP
    // files with dependencies) start at implement, so a fresh clone does not restart at
    // discovery; anything else starts at discovery.
    void start(bool finalized) {
        run_id_ = random_hex(16);
        run_dir_ = root_ / "runs" / run_id_;
        const std::string_view yaml = embedded_template("loop/mission-runtime.yaml");
        template_bytes_ = std::string(yaml);
        Json completed = Json::array();
        if (finalized) {
            for (const StepDef& s : kSteps) {
                if (s.step == MissionStep::implement) {
                    break;
                }
                completed.push_back(s.id);
            }
        }
        state_ = Json{{"blocked_reason", nullptr},
                      {"completed_steps", completed},
                      {"decisions", Json::object()},
                      {"inputs", {{"mission_slug", m_.slug()}}},
                      {"issued_step_id", nullptr},
                      {"mission_key", "software-dev"},
                      {"pending_decisions", Json::object()},
                      {"policy_snapshot",
                       {{"default_route", "same_llm_context"},
                        {"extras", Json::object()},
                        {"strictness", "medium"}}},
                      {"run_id", run_id_},
                      {"template_hash", sha256_hex(template_bytes_)},
                      {"template_path", (run_dir_ / "mission_template_frozen.yaml").string()}};
        exists_ = true;
        fresh_ = true;
        event("MissionRunStarted", "", "");
    }

    // The run's files must be writable inside the project before anything is decided.
    void check_writable() const {
        m_.writable(index_path_);
        m_.writable(run_dir_ / "state.json");
        m_.writable(run_dir_ / "run.events.jsonl");
    }

    void set_issued(MissionStep issued, const std::string& agent) {
        const std::string step = step_name(issued);
        state_["issued_step_id"] = step;
        state_["decisions"]["raci:" + step] =
            Json{{"accountable", {{"actor_id", nullptr}, {"actor_type", "human"}}},
                 {"consulted", Json::array()},
                 {"inferred_rule", "prompt_default"},
                 {"informed", Json::array()},
                 {"override_reason", nullptr},
                 {"responsible", {{"actor_id", nullptr}, {"actor_type", "llm"}}},
                 {"source", "inferred"},
                 {"step_id", step}};
        event("NextStepIssued", step, agent);
    }

    void complete(MissionStep step, const std::string& agent) {
        auto done = completed();
        if (std::find(done.begin(), done.end(), step) == done.end()) {
            state_["completed_steps"].push_back(step_name(step));
        }
        state_["issued_step_id"] = nullptr;
        event("NextStepAutoCompleted", step_name(step), agent, "success");
    }

    // The agent the issued step was issued to, from the run's events ("" when unknown).
    std::string issued_to() const {
        const auto step = issued();
        std::error_code ec;
        const fs::path log = run_dir_ / "run.events.jsonl";
        if (!step || !fs::is_regular_file(log, ec)) {
            return "";
        }
        std::string agent;
        for_each_stripped_line(read_file_bytes(log), [&](int, std::string_view line) {
            Json e;
            try {
                e = parse_json(line, log);
            } catch (const Error&) {
                return; // the run log is informational; a bad line decides nothing
            }
            const Json* type = JsonInput::member(e, "event_type");
            const Json* payload = JsonInput::member(e, "payload");
            if (type && *type == "NextStepIssued" && payload && payload->is_object() &&
                payload->value("step_id", Json()) == step_name(*step)) {
                const Json id = payload->value("agent_id", Json());
                agent = id.is_string() ? id.get<std::string>() : "";
            }
        });
        return agent;
    }

    void set_blocked(const std::optional<std::string>& reason) {
        state_["blocked_reason"] = reason ? Json(*reason) : Json(nullptr);
    }

    void finished(const std::string& agent) { event("MissionRunCompleted", "", agent); }

    // state.json (and on a new run the frozen template and the index entry), atomically; the
    // run's events appended, their fsync left to `later`.
    void save(DeferredSync* later) {
        if (!may_write_) {
            return;
        }
        std::error_code ec;
        fs::create_directories(m_.writable(run_dir_), ec);
        if (fresh_) {
            write_file_atomic(m_.writable(run_dir_ / "mission_template_frozen.yaml"),
                              template_bytes_);
        }
        write_file_atomic_if_changed(
            m_.writable(run_dir_ / "state.json"),
            dump_python(state_, {.indent = 2, .ensure_ascii = true, .sort_keys = true}));
        std::string lines;
        for (const Json& e : pending_events_) {
            lines += dump_python(e, {.indent = -1, .ensure_ascii = true, .sort_keys = true}) + "\n";
        }
        if (!lines.empty()) {
            append_file(m_.writable(run_dir_ / "run.events.jsonl"), lines, later);
        }
        pending_events_.clear();
        if (fresh_) {
            Json index = index_;
            index[m_.slug()] = Json{{"mission_key", "software-dev"},
                                    {"mission_type", "software-dev"},
                                    {"run_dir", run_dir_.string()},
                                    {"run_id", run_id_}};
            write_file_atomic(
                m_.writable(index_path_),
                dump_python(index, {.indent = 2, .ensure_ascii = true, .sort_keys = true}));
            fresh_ = false;
        }
    }

private:
    std::optional<std::string> text_or_null(const char* key) const {
        const Json* v = JsonInput::member(state_, key);
        return v && v->is_string() ? std::optional(v->get<std::string>()) : std::nullopt;
    }

    void event(const std::string& type, const std::string& step, const std::string& agent,
               const std::string& result = "") {
        Json payload{{"actor", actor_json(agent)},
                     {"agent_id", agent.empty() ? Json(nullptr) : Json(agent)},
                     {"run_id", run_id_}};
        if (!step.empty()) {
            payload["step_id"] = step;
        }
        if (!result.empty()) {
            payload["result"] = result;
        }
        pending_events_.push_back(Json{{"event_type", type},
                                       {"payload", payload},
                                       {"timestamp", python_isoformat(now_utc())}});
    }

    // The index entry counts only when its state.json exists (3.1.1); a run directory that
    // moved with the checkout is found under runs/<run_id>/ too. An unreadable index is empty.
    void load() {
        std::error_code ec;
        if (fs::is_regular_file(index_path_, ec)) {
            try {
                index_ = read_json_file(index_path_);
            } catch (const Error&) {
                index_ = Json::object();
            }
        }
        if (!index_.is_object()) {
            index_ = Json::object();
        }
        const Json* entry = JsonInput::member(index_, m_.slug());
        if (!entry || !entry->is_object()) {
            return;
        }
        // runs/<run_id>/ first: a copied project's index still names the original's run_dir,
        // and a run_dir outside the project is never read.
        std::vector<fs::path> dirs;
        if (const Json* id = JsonInput::member(*entry, "run_id"); id && id->is_string()) {
            dirs.push_back(root_ / "runs" /
                           checked_path_component(id->get<std::string>(), "run_id"));
            run_id_ = id->get<std::string>();
        }
        if (const Json* d = JsonInput::member(*entry, "run_dir"); d && d->is_string()) {
            const fs::path dir = fs::weakly_canonical(fs::path(d->get<std::string>()), ec);
            const fs::path rel =
                dir.lexically_relative(fs::weakly_canonical(m_.project_root(), ec));
            if (!ec && !rel.empty() && *rel.begin() != "..") {
                dirs.push_back(dir);
            }
        }
        for (const fs::path& dir : dirs) {
            if (fs::is_regular_file(dir / "state.json", ec)) {
                run_dir_ = dir;
                state_ = read_json_file(dir / "state.json");
                JsonInput("state.json", "INVALID_RUN_STATE", "fix or delete the run directory")
                    .object(state_, "the run state");
                if (const Json* id = JsonInput::member(state_, "run_id"); id && id->is_string()) {
                    run_id_ = id->get<std::string>();
                }
                if (const auto step = text_or_null("issued_step_id"); step && !step_def(*step)) {
                    throw Error(Exit::input, "INVALID_RUN_STATE",
                                "the run state issues the step '" + *step +
                                    "', which is not one of software-dev's steps",
                                "a run of another mission type cannot be continued by kitty; "
                                "set issued_step_id to null or delete the run directory " +
                                    dir.string())
                        .at(dir / "state.json");
                }
                exists_ = true;
                return;
            }
        }
    }

    const Mission& m_;
    bool may_write_;
    fs::path root_;
    fs::path index_path_;
    Json index_ = Json::object();
    fs::path run_dir_;
    std::string run_id_;
    Json state_ = Json::object();
    std::string template_bytes_;
    bool exists_ = false;
    bool fresh_ = false;
    std::vector<Json> pending_events_;
};

// The first step not yet completed, or nullopt when all are (each step depends on the one
// before, so the first one not completed is the only eligible one).
std::optional<MissionStep> first_open_step(const std::vector<MissionStep>& completed) {
    for (const StepDef& s : kSteps) {
        if (std::find(completed.begin(), completed.end(), s.step) == completed.end()) {
            return s.step;
        }
    }
    return std::nullopt;
}

// Whether finalize-tasks has given every WP its status events.
bool has_canonical_status(const LoopState& state) {
    return state.log_exists && std::all_of(state.wps.begin(), state.wps.end(),
                                           [](const LoopWp& wp) { return wp.has_events; });
}

std::string canonical_status_missing(const Mission& m) {
    return "Canonical status not found for feature '" + m.slug() +
           "'. Run 'spec-kitty agent mission finalize-tasks --mission " + m.slug() +
           "' to bootstrap the event log.";
}

// The guard of a planning step (§2.1), with 3.1.1's failure texts.
std::vector<std::string> guard_failures(const LoopState& state, MissionStep step) {
    const Mission& m = state.mission;
    std::error_code ec;
    const auto need = [&](const char* file) -> std::vector<std::string> {
        if (fs::exists(m.dir() / file, ec)) {
            return {};
        }
        return {std::string("Required artifact missing: ") + file};
    };
    if (step == MissionStep::specify) {
        return need("spec.md");
    }
    if (step == MissionStep::plan) {
        return need("plan.md");
    }
    if (step == MissionStep::tasks_outline) {
        return need("tasks.md");
    }
    const auto wp_files = list_wp_files(m.tasks_dir());
    if (step == MissionStep::tasks_packages) {
        return wp_files.empty()
                   ? std::vector<std::string>{"Required: at least one tasks/WP*.md file"}
                   : std::vector<std::string>{};
    }
    if (step == MissionStep::tasks_finalize) {
        if (!fs::is_directory(m.tasks_dir(), ec)) {
            return {"Required: tasks/ directory with finalized WP files"};
        }
        if (wp_files.empty()) {
            return {"Required: at least one tasks/WP*.md file"};
        }
        for (const fs::path& f : wp_files) {
            const std::string text = normalize_newlines(read_file_bytes(f));
            bool found = false;
            if (text.starts_with("---\n")) {
                const std::size_t close = text.find("\n---", 3);
                const std::string front = text.substr(0, close);
                found = front.find("\ndependencies:") != std::string::npos;
            }
            if (!found) {
                return {"WP " + f.stem().string() +
                        " missing 'dependencies' in frontmatter (run 'spec-kitty agent mission "
                        "finalize-tasks')"};
            }
        }
        if (!has_canonical_status(state)) {
            return {canonical_status_missing(m)};
        }
    }
    return {};
}

bool step_complete(const LoopState& state, MissionStep step) {
    for (const LoopWp& wp : state.wps) {
        const LaneSet& past = step == MissionStep::implement ? kHandedOffLanes : kApprovedLanes;
        const bool ok = past.contains(wp.lane) || wp.lane == WpLane::canceled;
        if (!ok || !wp.has_events) {
            return false;
        }
    }
    return true;
}

// What next answers: a query's view, a step to run, why the agent waits, the run's end.
// Rendered by name ("kind").
enum class DecisionKind { query, step, blocked, terminal };

NLOHMANN_JSON_SERIALIZE_ENUM(DecisionKind, {{DecisionKind::query, "query"},
                                            {DecisionKind::step, "step"},
                                            {DecisionKind::blocked, "blocked"},
                                            {DecisionKind::terminal, "terminal"}})

struct Decision {
    DecisionKind kind = DecisionKind::step;
    std::string mission_state;
    std::optional<std::string> action;
    std::optional<std::string> wp_id;
    std::optional<fs::path> workspace;
    std::optional<fs::path> prompt;
    std::optional<std::string> reason;
    std::vector<std::string> guard_failures;
    std::optional<std::string> step_id;
    std::optional<std::string> preview_step;
    std::optional<std::string> next_command;
    // Writes the prompt file once the status lock is released (prompts are the agent's own
    // files; nothing else waits for them).
    std::function<fs::path()> write_prompt;
    Json extra = Json::object(); // keys of a resolve step, after the common ones
};

Json progress_json(const LoopState& state) {
    if (state.wps.empty()) {
        return nullptr;
    }
    int done = 0, approved = 0, in_progress = 0, planned = 0, for_review = 0;
    for (const LoopWp& wp : state.wps) {
        done += wp.lane == WpLane::done;
        approved += wp.lane == WpLane::approved;
        in_progress += wp.lane == WpLane::claimed || wp.lane == WpLane::in_progress;
        planned += wp.lane == WpLane::planned;
        for_review += wp.lane == WpLane::for_review || wp.lane == WpLane::in_review;
    }
    const double weighted = std::stod(python_round1(status_progress(state.status())));
    return Json{{"total_wps", static_cast<int>(state.wps.size())},
                {"done_wps", done},
                {"approved_wps", approved},
                {"in_progress_wps", in_progress},
                {"planned_wps", planned},
                {"for_review_wps", for_review},
                {"weighted_percentage", weighted}};
}

Json opt(const std::optional<std::string>& v) {
    return v ? Json(*v) : Json(nullptr);
}

std::string mission_type_of(const Mission& m) {
    return m.identity().mission_type.empty() ? "software-dev" : m.identity().mission_type;
}

// The decision as 3.1.1's JSON document, keys in its order.
Json decision_document(const LoopState& state, const std::string& agent, const Decision& d,
                       const std::optional<std::string>& run_id, const Json& progress) {
    const Mission& m = state.mission;
    const std::string type = mission_type_of(m);
    const bool query = d.kind == DecisionKind::query;
    Json doc{{"kind", d.kind},
             {"agent", agent.empty() ? Json(nullptr) : Json(agent)},
             {"mission_slug", m.slug()},
             {"mission_number", mission_number_from_slug(m.slug())},
             {"mission_type", type},
             {"mission", type},
             {"mission_state", d.mission_state},
             {"timestamp", python_isoformat(now_utc())},
             {"action", opt(d.action)},
             {"wp_id", opt(d.wp_id)},
             {"workspace_path", d.workspace ? Json(d.workspace->string()) : Json(nullptr)},
             {"prompt_file", d.prompt ? Json(d.prompt->string()) : Json(nullptr)},
             {"reason", opt(d.reason)},
             {"guard_failures", d.guard_failures},
             {"progress", progress},
             {"origin", query ? Json::object()
                              : Json{{"mission_tier", "package_default"},
                                     {"mission_path", "kitty:missions/software-dev"}}},
             {"run_id", opt(run_id)},
             {"step_id", opt(d.step_id)},
             {"decision_id", nullptr},
             {"input_key", nullptr},
             {"question", nullptr},
             {"options", nullptr},
             {"is_query", query},
             {"preview_step", opt(d.preview_step)},
             {"mission_id", opt(m.identity().mission_id)},
             {"next_command", opt(d.next_command)}};
    for (const auto& [key, value] : d.extra.items()) {
        doc[key] = value;
    }
    return doc;
}

// The decision for a person: a heading, then a line per field that has a value.
std::string decision_text(const Mission& m, const Decision& d,
                          const std::optional<std::string>& run_id, const Json& progress) {
    std::string upper = Json(d.kind).get<std::string>();
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    std::string text =
        d.kind == DecisionKind::query
            ? "[QUERY — no result provided, state not advanced]\n  Mission: " + m.slug() + " @ " +
                  d.mission_state + "\n"
            : "[" + upper + "] " + m.slug() + " @ " + d.mission_state + "\n";
    text += "  Mission Type: " + mission_type_of(m) + "\n";
    if (d.preview_step) {
        text += "  Next step: " + *d.preview_step + "\n";
    }
    if (d.action) {
        text += "  Action: " + *d.action + (d.wp_id ? " " + *d.wp_id : "") + "\n";
    }
    if (d.workspace) {
        text += "  Workspace: " + d.workspace->string() + "\n";
    }
    if (!d.guard_failures.empty()) {
        text += "  Guards pending: " + join(d.guard_failures) + "\n";
    }
    if (d.reason) {
        text += "  Reason: " + *d.reason + "\n";
    }
    if (!progress.is_null()) {
        text += "  Progress: " +
                std::to_string(static_cast<int>(progress["weighted_percentage"].get<double>())) +
                "% (" + std::to_string(progress["done_wps"].get<int>()) + "/" +
                std::to_string(progress["total_wps"].get<int>()) + " done)\n";
    }
    if (run_id) {
        text += "  Run ID: " + *run_id + "\n";
    }
    if (d.prompt) {
        text += "\n  Next step: read the prompt file:\n    cat " + d.prompt->string() + "\n";
    }
    if (d.next_command) {
        text += (d.prompt ? "" : "\n") + std::string("  Then run: ") + *d.next_command + "\n";
    }
    return text;
}

Outcome render(const LoopState& state, const std::string& agent, const Decision& d,
               const std::optional<std::string>& run_id) {
    const Json progress = progress_json(state);
    Outcome out = Outcome::success(decision_document(state, agent, d, run_id, progress),
                                   decision_text(state.mission, d, run_id, progress));
    out.json_style = {.indent = 2, .ensure_ascii = true, .sort_keys = false};
    out.exit = d.kind == DecisionKind::blocked ? Exit::check_failed : Exit::ok;
    return out;
}

fs::path write_step_prompt(const LoopState& state, const StepDef& step, const std::string& agent) {
    const Mission& m = state.mission;
    const std::string rule(80, '=');
    std::string body = step.command.empty() ? std::string(embedded_template(step.loop_template))
                                            : command_template(step.command).body;
    body = fill_placeholder(body, "mission", m.slug());
    body = fill_placeholder(body, "next_command", loop::next_command_line(m, agent, true));
    body = replace_all(std::move(body), "__AGENT__", agent);
    body = replace_all(std::move(body), "$ARGUMENTS", "(see the mission's spec.md)");
    const std::string text = rule + "\nMission: " + m.slug() + "\nAgent: " + agent +
                             "\nMission directory: " + m.dir().string() + "\n" + rule + "\n\n" +
                             body + "\nWhen this step is done:\n\n    " +
                             loop::next_command_line(m, agent, true) + "\n";
    return loop::write_prompt(m, agent + "-" + std::string(step.action) + ".md", text);
}

// The decision for the issued step `step`: a planning step's prompt, or in a WP step the
// agent's work package (reserved for it under the status lock the caller holds).
Decision decide_step(LoopState& state, MissionStep step, const std::string& agent,
                     std::vector<Finding>& findings) {
    const Mission& m = state.mission;
    Decision d;
    d.kind = DecisionKind::step;
    d.mission_state = step_name(step);
    d.step_id = step_name(step);
    const StepDef* def = &step_def(step);
    if (!is_wp_step(step)) {
        d.action = std::string(def->action);
        d.write_prompt = [&state, def, agent] { return write_step_prompt(state, *def, agent); };
        d.next_command = loop::next_command_line(m, agent, true);
        return d;
    }
    if (!has_canonical_status(state)) {
        d.kind = DecisionKind::blocked;
        d.reason = canonical_status_missing(m);
        d.guard_failures = {*d.reason};
        d.next_command = "spec-kitty agent mission finalize-tasks --mission " + m.slug();
        return d;
    }
    loop::read_holder_liveness(state, agent);
    loop::WorkPick pick = loop::pick_work(state, step, agent);
    if (!pick.wp) {
        if (step_complete(state, step)) {
            d.reason =
                "Every work package is past " + step_name(step) + "; report the step done to go on";
            d.next_command = loop::next_command_line(m, agent, true);
            return d;
        }
        d.kind = DecisionKind::blocked;
        d.reason = pick.waiting;
        d.next_command = loop::next_command_line(m, agent, false);
        return d;
    }
    LoopWp& wp = *pick.wp;
    // prompt_dir() checked before the decision that kitty may write the prompt.
    d.action = pick.action;
    d.wp_id = wp.id;
    d.workspace = loop::workspace_of(state, wp).path;
    d.write_prompt = [&state, &wp, action = pick.action, agent] {
        return loop::write_wp_prompt(state, wp, action, agent);
    };
    d.next_command = loop::action_command_line(m, pick.action, wp.id, agent);
    if (pick.reserve_to) {
        const std::string mode = wp.planning() ? "direct_repo" : "worktree";
        std::vector<StatusEvent> events;
        WpLane from = wp.lane;
        if (!pick.takeover_from.empty()) {
            // Recorded as a forced move with its reason, which 3.1.1 reads like any other.
            const WpLane to = wp.review_claim ? WpLane::for_review : *pick.reserve_to;
            StatusEvent e = loop::make_event(m, wp.id, from, to, agent);
            e.force = true;
            e.reason =
                loop::takeover_reason(pick.takeover_from, wp.silent_seconds, state.lease_seconds);
            e.execution_mode = mode;
            events.push_back(std::move(e));
            from = to;
            d.extra["taken_over_from"] = pick.takeover_from;
        }
        if (from != *pick.reserve_to) {
            StatusEvent e = loop::make_event(m, wp.id, from, *pick.reserve_to, agent);
            e.reason = "Reserved for " + agent + " by next";
            e.execution_mode = mode;
            events.push_back(std::move(e));
        }
        const auto added = loop::record_events(state, events);
        findings.insert(findings.end(), added.begin(), added.end());
    }
    return d;
}

// A resolve step (issue 21 §3): the lane's worktree with the merge started in it, its
// conflicts, and what still stands in the way when the agent reported it done too early.
Decision resolve_decision(const LoopState& state, const loop::ResolveTicket& t,
                          const std::optional<std::string>& step,
                          const std::vector<std::string>& problems) {
    Decision d;
    d.kind = DecisionKind::step;
    d.mission_state = "resolve";
    d.step_id = step;
    d.action = "resolve";
    d.workspace = t.worktree;
    d.reason = "Merging " + t.other_branch + " into " + t.branch + " conflicts in " +
               merge_detail::conflicts_text(t.conflicts) + "; resolve it in the lane's worktree" +
               (problems.empty() ? "" : ". Not done yet: " + join(problems, "; "));
    d.next_command = loop::next_command_line(state.mission, t.agent, true);
    d.write_prompt = [&state, t] { return loop::write_resolve_prompt(state, t); };
    d.extra = Json{{"lane_id", t.lane_id},
                   {"branch", t.branch},
                   {"other_branch", t.other_branch},
                   {"conflicts", merge_detail::conflicts_json(t.conflicts)},
                   {"problems", problems}};
    return d;
}

Decision blocked_by(const LoopState& state, const std::string& agent, std::string reason,
                    std::string next_command = "") {
    Decision d;
    d.kind = DecisionKind::blocked;
    d.mission_state = "resolve";
    d.reason = std::move(reason);
    d.next_command = next_command.empty() ? loop::next_command_line(state.mission, agent, false)
                                          : std::move(next_command);
    return d;
}

// `d` as the merge's forecast allows it (ARCHITECTURE.md decision 12): accept and terminal
// only when the merge would complete; otherwise the conflict as a resolve step for `agent`.
Decision unless_conflicts(LoopState& state, Decision d, const std::string& agent,
                          const std::optional<std::string>& step) {
    if (d.kind != DecisionKind::terminal && d.action != "accept") {
        return d;
    }
    const auto conflict = loop::forecast_conflict(state);
    if (!conflict) {
        return d;
    }
    const Mission& m = state.mission;
    if (conflict->lane_id.empty()) {
        return blocked_by(
            state, agent,
            "The merge would stop at " + conflict->stop_lane_id + " with conflicts in " +
                merge_detail::conflicts_text(conflict->conflicts) +
                " that come from several lanes together; run the merge, resolve them in "
                "its merge worktree, then resume it",
            "spec-kitty merge --mission " + m.slug());
    }
    try {
        const loop::ResolveTicket t = loop::start_resolve(state, *conflict, agent);
        return resolve_decision(state, t, step, {});
    } catch (const Error& e) {
        if (e.code() != "LANE_BUSY") {
            throw;
        }
        return blocked_by(state, agent,
                          std::string(e.what()) + " (" + e.hint() + "); the merge would stop on " +
                              merge_detail::conflicts_text(conflict->conflicts));
    }
}

// The answer to `agent` about mission step `step`, which is `owner`'s (E11): blocked, naming
// the owner; `what` says what only the owner does.
Decision issued_to_another(const Mission& m, const std::string& step, const std::string& owner,
                           const std::string& agent, const std::string& what) {
    Decision d;
    d.kind = DecisionKind::blocked;
    d.mission_state = step;
    d.step_id = step;
    d.reason = "Step '" + step + "' is issued to " + owner + "; only " + owner + what;
    d.next_command = loop::next_command_line(m, agent, false);
    return d;
}

// A mission step is the agent's it was issued to (E11). Another agent asking is told who
// runs it instead of being handed the same step (eight agents each running the acceptance
// gate); a resolve step that a forecast conflict put first is still anyone's.
Decision unless_issued_to_another(const Mission& m, const std::string& owner, Decision d,
                                  const std::string& agent) {
    if (d.kind != DecisionKind::step || !d.step_id || is_wp_step(*d.step_id) ||
        d.action == "resolve" || owner.empty() || owner == agent) {
        return d;
    }
    return issued_to_another(m, *d.step_id, owner, agent,
                             " runs it and reports its result; ask again later.");
}

// A blocked answer about `step` with `reason`; the agent reports success once it is fixed.
Decision blocked_on(const Mission& m, const std::string& agent, const std::string& step,
                    const std::optional<std::string>& cur, const std::string& reason) {
    Decision d;
    d.kind = DecisionKind::blocked;
    d.mission_state = step;
    d.step_id = cur;
    d.reason = reason + " Fix the cause, then report success to resume.";
    d.next_command = loop::next_command_line(m, agent, true);
    return d;
}

// A query's answer: where the run is, or where it would start; nothing is written.
Decision query_decision(const Mission& m, const std::string& state,
                        const std::optional<std::string>& step) {
    Decision d;
    d.kind = DecisionKind::query;
    d.mission_state = state;
    d.step_id = step;
    d.next_command = "spec-kitty next --agent <agent> --mission " + m.slug();
    return d;
}

void check_result_value(const std::optional<std::string>& result) {
    if (result && *result != "success" && *result != "failed" && *result != "blocked") {
        throw Error(Exit::usage, "BAD_RESULT",
                    "--result must be one of ('success', 'failed', 'blocked'), got '" + *result +
                        "'",
                    "pass --result success, failed or blocked");
    }
}

// The takeovers of the agent's claims it has not seen, as warnings and a document list.
Json report_takeovers(const std::vector<loop::Takeover>& taken, std::vector<Finding>& findings) {
    Json list = Json::array();
    for (const loop::Takeover& t : taken) {
        list.push_back({{"wp_id", t.wp_id}, {"by", t.by}, {"at", t.at}});
        findings.push_back({"warning", "WP_TAKEN_OVER",
                            t.wp_id + " was taken over by " + t.by + " at " + t.at +
                                ": your claim had no sign of life beyond the lease. What you "
                                "committed is on the lane branch; leave " +
                                t.wp_id + " to " + t.by,
                            "", 0});
    }
    return list;
}

// One call of next: the loop state read, and for an agent (not a query) the status lock
// taken and the status brought up to date under it; the run; the decision, rendered.
class NextCall {
public:
    explicit NextCall(const NextRequest& request)
        : request_(request), query_(request.agent.empty() && !request.result),
          // The WP files and lanes.json are read, and the frontmatter parsed, before the
          // status lock; under it the status is read again (only what was appended meanwhile).
          state_(loop::read_loop_state(loop::open_loop_mission(request.target))),
          lock_(lock_for_agent()), run_(state_.mission, !query_),
          // Read before this call records anything as the agent, which would count as its
          // reply.
          taken_(query_ ? std::vector<loop::Takeover>{}
                        : loop::unseen_takeovers(state_.digest, request.agent)) {}

    Outcome answer() {
        if (!run_.exists()) {
            const bool finalized = guard_failures(state_, MissionStep::tasks_finalize).empty();
            if (query_) {
                const auto first =
                    step_name(finalized ? MissionStep::implement : MissionStep::discovery);
                Decision d = query_decision(mission(), "not_started", first);
                d.preview_step = first;
                return render(state_, agent(), d, std::nullopt);
            }
            run_.start(finalized);
        }
        const std::optional<MissionStep> cur = run_.issued();
        if (query_) {
            const auto at = cur ? cur : first_open_step(run_.completed());
            Decision d = query_decision(mission(), at ? step_name(*at) : "done", step_name(at));
            if (const auto reason = run_.blocked_reason()) {
                d.reason = reason;
            }
            return render(state_, agent(), d, run_.run_id());
        }
        run_.check_writable();
        loop::prompt_dir(mission());
        if (auto ticket = open_resolve_ticket()) {
            return finish(resolve_answer(*ticket, cur));
        }
        if (!request_.result) {
            return finish(ask_answer(cur));
        }
        return finish(result_answer(cur));
    }

private:
    const Mission& mission() const { return state_.mission; }
    const std::string& agent() const { return request_.agent; }

    std::optional<FileLock> lock_for_agent() {
        if (query_) {
            return std::nullopt;
        }
        touch_heartbeat(mission(), agent(), request_.shell_pid);
        for (const LoopWp& wp : state_.wps) {
            try {
                wp.dependencies();
            } catch (const Error&) {
                // said again, if it matters, where the decision reads the file
            }
        }
        state_.lease_seconds = claim_lease_seconds(mission().project_root());
        std::optional<FileLock> lock(mission().lock_status());
        loop::refresh_status(state_);
        return lock;
    }

    Outcome finish(Decision d) {
        d = unless_conflicts(state_, std::move(d), agent(), step_name(run_.issued()));
        if (!request_.result) {
            d = unless_issued_to_another(mission(), run_.issued_to(), std::move(d), agent());
        }
        if (!taken_.empty()) {
            d.extra["taken_over"] = report_takeovers(taken_, findings_);
        }
        run_.save(&state_.unsynced);
        lock_.reset();
        state_.unsynced.flush();
        if (d.write_prompt) {
            d.prompt = d.write_prompt();
        }
        Outcome out =
            render(state_, agent(), d, run_.exists() ? std::optional(run_.run_id()) : std::nullopt);
        out.findings = findings_;
        return out;
    }

    Decision issue_next() {
        const auto step = first_open_step(run_.completed());
        if (!step) {
            Decision d;
            d.kind = DecisionKind::terminal;
            d.mission_state = "done";
            d.reason = "All mission steps completed";
            d.next_command = "spec-kitty merge --mission " + mission().slug();
            return d;
        }
        run_.set_issued(*step, agent());
        return decide_step(state_, *step, agent(), findings_);
    }

    // The resolve ticket, unless its lane worktree is gone (merged by hand, removed):
    // nothing is left to resolve there, and the forecast decides again.
    std::optional<loop::ResolveTicket> open_resolve_ticket() {
        auto ticket = loop::read_resolve_ticket(mission());
        std::error_code ec;
        if (ticket && !fs::is_directory(ticket->worktree, ec)) {
            loop::remove_resolve_ticket(mission());
            ticket.reset();
        }
        return ticket;
    }

    Decision resolve_answer(const loop::ResolveTicket& ticket,
                            const std::optional<MissionStep>& cur) {
        if (ticket.agent != agent()) {
            return blocked_by(state_, agent(),
                              ticket.agent + " resolves the conflict of " + ticket.lane_id +
                                  " with " + ticket.other_branch + "; the mission waits for it");
        }
        if (request_.result && *request_.result != "success") {
            loop::abandon_resolve(mission(), ticket);
            return blocked_by(
                state_, agent(),
                "The resolve step of " + ticket.lane_id +
                    " is given up: its worktree is as it was before the merge started. The "
                    "next call hands the conflict out again",
                loop::next_command_line(mission(), agent(), false));
        }
        if (!request_.result) {
            return resolve_decision(state_, ticket, step_name(cur), {});
        }
        if (const auto problems = loop::resolve_problems(state_, ticket); !problems.empty()) {
            return resolve_decision(state_, ticket, step_name(cur), problems);
        }
        // Resolved: the run's own step is answered again, not completed by this success.
        loop::remove_resolve_ticket(mission());
        return cur ? decide_step(state_, *cur, agent(), findings_) : issue_next();
    }

    // An agent asking for work: a blocked run stays blocked; else the issued step, or the
    // next one.
    Decision ask_answer(const std::optional<MissionStep>& cur) {
        if (const auto reason = run_.blocked_reason()) {
            return blocked_on(mission(), agent(), cur ? step_name(*cur) : "blocked", step_name(cur),
                              *reason);
        }
        if (!cur) {
            return issue_next();
        }
        return decide_step(state_, *cur, agent(), findings_);
    }

    Decision result_answer(const std::optional<MissionStep>& cur) {
        // A mission step is reported by the agent it was issued to (E11): another agent's
        // result must not complete or fail it.
        if (cur && !is_wp_step(*cur)) {
            if (const std::string owner = run_.issued_to(); !owner.empty() && owner != agent()) {
                return issued_to_another(mission(), step_name(*cur), owner, agent(),
                                         " reports its result. Nothing changed.");
            }
        }
        if (*request_.result != "success") {
            const std::string step = step_name(
                cur.value_or(first_open_step(run_.completed()).value_or(MissionStep::accept)));
            const std::string reason =
                *request_.result == "failed"
                    ? "Previous step '" + step + "' failed; manual intervention required."
                    : "Previous step '" + step + "' reported blocked state.";
            run_.set_blocked(reason);
            return blocked_on(mission(), agent(), step, step_name(cur), reason);
        }
        run_.set_blocked(std::nullopt);
        if (cur) {
            if (auto unmet = unmet_step(*cur)) {
                return std::move(*unmet);
            }
            run_.complete(*cur, agent());
            if (!first_open_step(run_.completed())) {
                run_.finished(agent());
            }
        }
        return issue_next();
    }

    // The step again when a success is reported for it too early: its WPs not done, the
    // acceptance gate's checks unmet, its guard failing.
    std::optional<Decision> unmet_step(MissionStep step) {
        if (is_wp_step(step)) {
            if (!has_canonical_status(state_) || !step_complete(state_, step)) {
                return decide_step(state_, step, agent(), findings_);
            }
            return std::nullopt;
        }
        if (step == MissionStep::accept) {
            const auto problems =
                loop::acceptance_problems(loop::read_acceptance_facts(state_, true));
            if (problems.empty()) {
                return std::nullopt;
            }
            Decision d = decide_step(state_, step, agent(), findings_);
            for (const loop::AcceptanceProblem& p : problems) {
                d.guard_failures.push_back(
                    (p.path.empty() ? "" : p.path.filename().string() + ": ") + p.message);
            }
            d.reason = "The mission is not ready to be accepted (" +
                       std::to_string(problems.size()) +
                       " unmet checks); spec-kitty accept --mission " + mission().slug() +
                       " lists each with its fix";
            return d;
        }
        if (const auto failures = guard_failures(state_, step); !failures.empty()) {
            Decision d = decide_step(state_, step, agent(), findings_);
            d.guard_failures = failures;
            return d;
        }
        return std::nullopt;
    }

    const NextRequest& request_;
    const bool query_;
    LoopState state_;
    std::optional<FileLock> lock_;
    Run run_;
    const std::vector<loop::Takeover> taken_;
    std::vector<Finding> findings_;
};

} // namespace next_detail

Outcome next_command(const NextRequest& request) {
    next_detail::check_result_value(request.result);
    if (!request.agent.empty() || request.result) {
        loop::checked_agent(request.agent);
    }
    return next_detail::NextCall(request).answer();
}

} // namespace kitty
