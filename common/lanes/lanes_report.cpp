#include "kitty/lanes_report.hpp"

#include <set>

#include <re2/re2.h>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/dependency_graph.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/lane_inputs.hpp"
#include "kitty/lanes.hpp"
#include "kitty/mission.hpp"
#include "kitty/regex.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

// Pairs of WPs listed in a document before it only counts the rest.
constexpr std::size_t kListedPairs = 1000;

LaneSource read_source(const ComputeLanesRequest& request) {
    if (request.input == "-") {
        require_utf8(request.stdin_text, "<stdin>");
        return lane_source_from_json(parse_json(request.stdin_text, "<stdin>"), "<stdin>");
    }
    if (!names_mission(request.input)) {
        return lane_source_from_json(read_json_file(request.input), request.input);
    }
    return read_mission_lane_source(Mission::open(request.input, request.start_dir));
}

// The arguments, with the flags over what the source names over the defaults.
LaneSource resolve_source(const ComputeLanesRequest& request) {
    LaneSource source = read_source(request);
    LaneInputs& in = source.inputs;
    if (request.mission_slug) {
        in.mission_slug = *request.mission_slug;
    }
    if (in.mission_slug.empty()) {
        throw Error(Exit::usage, "MISSING_MISSION_SLUG", "no mission slug: the input names none",
                    "pass --mission-slug, or put mission_slug in the document");
    }
    if (request.mission_id) {
        in.mission_id = *request.mission_id;
    }
    if (request.target_branch) {
        in.target_branch = *request.target_branch;
    } else if (!source.names_target_branch) {
        // finalize-tasks lanes against the branch checked out in the main repository.
        const auto repo = Repository::discover(source.mission_dir.value_or(request.start_dir));
        in.target_branch = repo ? repo->current_branch().value_or("main") : "main";
    }
    if (request.computed_at) {
        UtcTime parsed;
        if (!parse_iso_timestamp(*request.computed_at, parsed)) {
            throw Error(Exit::usage, "INVALID_TIMESTAMP",
                        "--computed-at " + *request.computed_at + " is not an ISO-8601 timestamp",
                        "use e.g. 2026-01-01T00:00:00+00:00");
        }
        in.computed_at = *request.computed_at;
    } else if (!source.names_computed_at) {
        in.computed_at = python_isoformat(now_utc());
    }
    return source;
}

// "1 pair", "2 pairs".
std::string count_of(std::size_t n, const std::string& noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// Two WPs of one code lane of which neither depends on the other, even indirectly: work
// the WPs declared as parallel that the lane runs one after the other.
struct LostPair {
    std::string lane_id;
    std::string wp_a;
    std::string wp_b;
};

// Pairs of one lane shown to people; the findings show the first 5 of them.
constexpr std::size_t kShownPerLane = 10;

struct LaneLoss {
    std::size_t total = 0;
    std::vector<LostPair> first; // at most kShownPerLane
};

// Every lost pair counted, but only those shown kept: 10,000 WPs in one lane are 50
// million pairs.
struct LostParallelism {
    std::map<std::string, LaneLoss> lanes; // by lane id; code lanes only
    std::vector<LostPair> listed;          // the first kListedPairs, in lane order
    std::size_t total = 0;
};

LostParallelism lost_parallelism(const LanesManifest& m, const DependencyMap& graph) {
    // The graph by index, in both directions; an id that is only a dependency, or only in
    // a lane, is a node without edges.
    std::map<std::string, std::size_t> index;
    std::vector<std::vector<std::size_t>> deps, dependents;
    const auto node = [&](const std::string& wp) {
        const auto [it, fresh] = index.emplace(wp, deps.size());
        if (fresh) {
            deps.emplace_back();
            dependents.emplace_back();
        }
        return it->second;
    };
    for (const auto& [wp, wp_deps] : graph) {
        const std::size_t from = node(wp);
        for (const std::string& dep : wp_deps) {
            const std::size_t to = node(dep);
            deps[from].push_back(to);
            dependents[to].push_back(from);
        }
    }
    for (const Lane& lane : m.lanes) {
        for (const std::string& wp : lane.wp_ids) {
            node(wp);
        }
    }
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> seen(deps.size(), 0);        // == round: reached from the WP
    std::vector<std::size_t> position(deps.size(), none); // in the current lane
    std::vector<std::size_t> stack;
    std::size_t round = 0;

    LostParallelism out;
    for (const Lane& lane : m.lanes) {
        if (lane.is_planning()) {
            continue;
        }
        std::vector<std::string> ids = lane.wp_ids;
        std::sort(ids.begin(), ids.end());
        std::vector<std::size_t> members;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            members.push_back(index.at(ids[i]));
            position[members.back()] = i;
        }
        LaneLoss& loss = out.lanes[lane.lane_id];
        for (std::size_t i = 0; i < members.size(); ++i) {
            // Everything WP i depends on and everything depending on it, counting the
            // later members of the lane among them: the rest of those are independent.
            ++round;
            std::size_t related = 0;
            for (const auto* edges : {&deps, &dependents}) {
                stack.assign(1, members[i]);
                while (!stack.empty()) {
                    const std::size_t at = stack.back();
                    stack.pop_back();
                    for (const std::size_t next : (*edges)[at]) {
                        if (seen[next] != round) {
                            seen[next] = round;
                            related += position[next] != none && position[next] > i ? 1 : 0;
                            stack.push_back(next);
                        }
                    }
                }
            }
            const std::size_t independent = members.size() - 1 - i - related;
            loss.total += independent;
            out.total += independent;
            std::size_t found = 0;
            for (std::size_t j = i + 1;
                 j < members.size() && found < independent &&
                 (loss.first.size() < kShownPerLane || out.listed.size() < kListedPairs);
                 ++j) {
                if (seen[members[j]] == round) {
                    continue;
                }
                ++found;
                const LostPair pair{lane.lane_id, ids[i], ids[j]};
                if (loss.first.size() < kShownPerLane) {
                    loss.first.push_back(pair);
                }
                if (out.listed.size() < kListedPairs) {
                    out.listed.push_back(pair);
                }
            }
        }
        for (const std::size_t member : members) {
            position[member] = none;
        }
    }
    return out;
}

std::string lane_heading(const LanesManifest& m, const Lane& lane) {
    if (lane.is_planning()) {
        return lane.lane_id + "  (planning artifacts: main checkout, branch " + m.target_branch +
               ")";
    }
    return lane.lane_id + "  (worktree .worktrees/" + worktree_name(m.mission_slug, lane.lane_id) +
           ", branch " + lane_branch_name(m.mission_slug, lane, m.target_branch) + ")";
}

// The lanes for people: each lane, its WPs in execution order and write scope, then the
// merges that formed it and the parallel work it lost.
std::string render_lanes(const LanesManifest& m, const LostParallelism* lost) {
    std::string out = "mission " + m.mission_slug + ", target branch " + m.target_branch + "\n";
    for (const Lane& lane : m.lanes) {
        out += lane_heading(m, lane) + "\n";
        out += "  runs:   " + join(lane.wp_ids, " -> ") + "\n";
        out +=
            "  writes: " + (lane.write_scope.empty() ? "(nothing)" : join(lane.write_scope)) + "\n";
        for (const CollapseEvent& e : m.events) {
            const Lane* owner = m.lane_for_wp(e.wp_a);
            if (owner == &lane) {
                out += "  merged " + e.wp_a + " + " + e.wp_b + " (" + e.rule + "): " + e.evidence +
                       "\n";
            }
        }
        if (lost != nullptr && lost->lanes.count(lane.lane_id) > 0) {
            const LaneLoss& loss = lost->lanes.at(lane.lane_id);
            for (const LostPair& p : loss.first) {
                out += "  parallelism lost: " + p.wp_a + " and " + p.wp_b +
                       " do not depend on each other but run one after the other\n";
            }
            if (loss.total > loss.first.size()) {
                out +=
                    "  parallelism lost: " + count_of(loss.total - loss.first.size(), "more pair") +
                    "\n";
            }
        }
    }
    if (m.lanes.empty()) {
        out += "no lanes\n";
    }
    out += count_of(m.lanes.size(), "lane") + ", " + count_of(m.events.size(), "merge");
    if (lost != nullptr) {
        out += ", " + count_of(lost->total, "pair") + " of independent WPs sharing a lane";
    }
    return out + "\n";
}

std::vector<Finding> lost_findings(const LanesManifest& m, const LostParallelism& lost,
                                   const std::string& path) {
    std::vector<Finding> out;
    for (const Lane& lane : m.lanes) {
        const auto loss = lost.lanes.find(lane.lane_id);
        if (loss == lost.lanes.end() || loss->second.total == 0) {
            continue;
        }
        std::vector<std::string> pairs;
        for (const LostPair& p : loss->second.first) {
            if (pairs.size() == 5) {
                pairs.push_back("…");
                break;
            }
            pairs.push_back(p.wp_a + "/" + p.wp_b);
        }
        out.push_back({"warning", "PARALLELISM_LOST",
                       lane.lane_id + ": " + count_of(loss->second.total, "pair") +
                           " of WPs with no dependency between them in one lane, run one "
                           "after the other (" +
                           join(pairs) + ")",
                       path, 0});
    }
    return out;
}

std::string source_path(const LaneSource& source, const ComputeLanesRequest& request) {
    return source.mission_dir ? source.mission_dir->string() : request.input;
}

// Given the mission, every WP it lanes must be in a lane, and the lanes name no WP the
// mission no longer has.
void check_against_mission(const LanesFile& file, const Mission& mission, const fs::path& path,
                           std::vector<Finding>& findings) {
    std::set<std::string> graph_ids;
    for (const auto& [wp, deps] : mission_dependency_graph(mission).graph) {
        graph_ids.insert(wp);
        if (file.manifest.lane_for_wp(wp) == nullptr) {
            findings.push_back({"error", "WP_NOT_IN_LANE",
                                wp + " is a work package of the mission but in no lane; "
                                     "recompute lanes",
                                path.string(), 0});
        }
    }
    for (const Lane& lane : file.manifest.lanes) {
        for (const std::string& wp : lane.wp_ids) {
            if (!graph_ids.count(wp)) {
                findings.push_back({"warning", "UNKNOWN_WP_IN_LANE",
                                    wp + " (" + lane.lane_id +
                                        ") is not a work package of the mission's tasks.md or "
                                        "wps.yaml; recompute lanes",
                                    path.string(), 0});
            }
        }
    }
}

} // namespace

Outcome compute_lanes_command(const ComputeLanesRequest& request) {
    LaneSource source = resolve_source(request);
    const LanesManifest manifest = compute_lanes(source.inputs);
    const std::string bytes = serialize_lanes(manifest);
    Outcome out;
    out.findings = std::move(source.findings);
    if (request.for_people) {
        const LostParallelism lost = lost_parallelism(manifest, source.inputs.graph);
        out.text = render_lanes(manifest, &lost);
    }
    if (!request.write) {
        out.document = lanes_json(manifest);
        out.json_style = {.indent = 2};
        return out;
    }
    // A document's own mission_dir is never trusted as a place to write.
    if (!names_mission(request.input)) {
        throw Error(Exit::usage, "NO_MISSION_DIR",
                    "--write needs a mission directory or selector, and " + request.input +
                        " is a document",
                    "pass the mission directory, or redirect the printed lanes.json yourself");
    }
    const Mission mission = Mission::open(request.input, request.start_dir);
    const fs::path target = mission.writable(mission.lanes_json());
    std::error_code ec;
    const bool existed = fs::exists(target, ec);
    const bool changed = !existed || read_file_bytes(target) != bytes;
    if (changed) {
        write_file_atomic(target, bytes);
    }
    std::vector<std::string> lane_ids;
    for (const Lane& lane : manifest.lanes) {
        lane_ids.push_back(lane.lane_id);
    }
    out.document = {{"written", target.string()},
                    {"changed", changed},
                    {"lane_ids", lane_ids},
                    {"planning_artifact_wps", manifest.planning_artifact_wps()}};
    out.text = (changed ? "wrote " : "unchanged ") + target.string() + "\n" + out.text;
    return out;
}

Outcome explain_lanes_command(const ComputeLanesRequest& request) {
    LaneSource source = resolve_source(request);
    const LanesManifest manifest = compute_lanes(source.inputs);
    const LostParallelism lost = lost_parallelism(manifest, source.inputs.graph);
    Outcome out;
    out.findings = std::move(source.findings);
    for (Finding& f : lost_findings(manifest, lost, source_path(source, request))) {
        out.findings.push_back(std::move(f));
    }
    Json lanes = Json::array();
    for (const Lane& lane : manifest.lanes) {
        lanes.push_back(
            {{"lane_id", lane.lane_id},
             {"wp_ids", lane.wp_ids},
             {"is_planning_lane", lane.is_planning()},
             {"branch", lane_branch_name(manifest.mission_slug, lane, manifest.target_branch)},
             {"write_scope", lane.write_scope},
             {"predicted_surfaces", lane.predicted_surfaces}});
    }
    Json merges = Json::array();
    for (const CollapseEvent& e : manifest.events) {
        merges.push_back({{"lane_id", manifest.lane_for_wp(e.wp_a)->lane_id},
                          {"wp_a", e.wp_a},
                          {"wp_b", e.wp_b},
                          {"rule", e.rule},
                          {"evidence", e.evidence}});
    }
    Json pairs = Json::array();
    for (const LostPair& p : lost.listed) {
        pairs.push_back({{"lane_id", p.lane_id}, {"wp_a", p.wp_a}, {"wp_b", p.wp_b}});
    }
    Json findings = Json::array();
    for (const Finding& f : out.findings) {
        findings.push_back(f.to_json());
    }
    out.document = {{"mission_slug", manifest.mission_slug},
                    {"target_branch", manifest.target_branch},
                    {"lanes", lanes},
                    {"merges", merges},
                    {"parallelism_lost", pairs},
                    {"parallelism_lost_total", lost.total},
                    {"findings", findings}};
    out.text = render_lanes(manifest, &lost);
    return out;
}

Outcome resolve_lane_command(const std::string& mission, const std::string& wp_id,
                             const fs::path& start_dir) {
    static const Regex wp_pattern(R"(WP\d{2,})");
    if (!RE2::FullMatch(wp_id, wp_pattern)) {
        throw Error(Exit::usage, "INVALID_WP_ID", "'" + wp_id + "' is not a work package id",
                    "work package ids look like WP01");
    }
    const Mission opened = Mission::open(mission, start_dir);
    const fs::path path = opened.lanes_json();
    const LanesFile file = read_lanes_file(path);
    const LanesManifest& m = file.manifest;
    const Lane* lane = m.lane_for_wp(wp_id);
    if (lane == nullptr) {
        throw Error(Exit::input, "WP_NOT_IN_LANE", wp_id + " is in no lane of " + path.string(),
                    "recompute lanes (kitty-lanes compute " + mission +
                        " --write) after adding the WP to tasks.md")
            .at(path);
    }
    const fs::path workspace =
        lane->is_planning() ? opened.project_root() : opened.worktree_path(lane->lane_id);
    const std::string branch = lane_branch_name(
        checked_path_component(m.mission_slug, "lanes.json mission_slug"), *lane, m.target_branch);
    Outcome out = Outcome::success({{"wp_id", wp_id},
                                    {"lane_id", lane->lane_id},
                                    {"branch", branch},
                                    {"workspace", workspace.string()},
                                    {"is_planning_lane", lane->is_planning()}},
                                   wp_id + " -> " + lane->lane_id + ": branch " + branch + ", " +
                                       (lane->is_planning() ? "main checkout " : "worktree ") +
                                       workspace.string() + "\n");
    return out;
}

Outcome show_lanes_command(const std::string& input, const fs::path& start_dir) {
    const std::optional<Mission> mission =
        names_mission(input) ? std::optional(Mission::open(input, start_dir)) : std::nullopt;
    const fs::path path = mission ? mission->lanes_json() : fs::path(input);
    LanesFile file = read_lanes_file(path);
    if (mission) {
        check_against_mission(file, *mission, path, file.findings);
    }
    bool ok = true;
    Json findings = Json::array();
    for (const Finding& f : file.findings) {
        ok = ok && f.severity != "error";
        findings.push_back(f.to_json());
    }
    Outcome out;
    out.document = {{"path", path.string()},
                    {"shape", file.shape},
                    {"manifest", lanes_json(file.manifest)},
                    {"recorded_planning_artifact_wps", file.recorded_planning_artifact_wps},
                    {"findings", findings},
                    {"ok", ok}};
    out.text = path.string() + " (" + file.shape + ")\n" + render_lanes(file.manifest, nullptr);
    out.exit = ok ? Exit::ok : Exit::check_failed;
    out.findings = std::move(file.findings);
    return out;
}

} // namespace kitty
