#include <algorithm>
#include <array>
#include <numeric>
#include <queue>
#include <set>
#include <unordered_map>

#include "kitty/dependency_graph.hpp"
#include "kitty/error.hpp"
#include "kitty/glob.hpp"
#include "kitty/lanes.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace {

// Disjoint sets over WP indices. The partition (and so every lane and every event) does
// not depend on which element becomes a root.
class DisjointSets {
public:
    explicit DisjointSets(std::size_t n) : parent_(n), rank_(n, 0) {
        std::iota(parent_.begin(), parent_.end(), 0);
    }
    std::size_t find(std::size_t x) {
        while (parent_[x] != x) {
            parent_[x] = parent_[parent_[x]];
            x = parent_[x];
        }
        return x;
    }
    void unite(std::size_t a, std::size_t b) {
        a = find(a);
        b = find(b);
        if (a == b) {
            return;
        }
        if (rank_[a] < rank_[b]) {
            std::swap(a, b);
        }
        parent_[b] = a;
        rank_[a] += rank_[a] == rank_[b];
    }

private:
    std::vector<std::size_t> parent_;
    std::vector<int> rank_;
};

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

// "overlapping globs: 'a' vs 'b', …": every overlapping pair, a's globs outer.
std::string describe_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::string out;
    for (const std::string& ga : a) {
        for (const std::string& gb : b) {
            if (globs_overlap(ga, gb)) {
                out += (out.empty() ? "" : ", ") + python_repr(ga) + " vs " + python_repr(gb);
            }
        }
    }
    return "overlapping globs: " + out;
}

bool any_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const std::string& ga : a) {
        for (const std::string& gb : b) {
            if (globs_overlap(ga, gb)) {
                return true;
            }
        }
    }
    return false;
}

// Finds, for one WP, the WPs whose globs might overlap its own and that are not yet in its
// lane: a superset of the pairs Rule 2 would merge, so it tests only those instead of
// every pair. Each clause of globs_overlap has an index of "runs" (WPs sharing a key):
// equal globs, glob prefixes that extend or are extended by this one's prefix, and globs
// whose literal head (the part before a wildcard) starts this prefix or starts the other's
// prefix. A run whose WPs are all in one lane is skipped in O(1) by WPs of that lane.
class OverlapIndex {
public:
    explicit OverlapIndex(const std::vector<const std::vector<std::string>*>& owned) {
        for (std::size_t wp = 0; wp < owned.size(); ++wp) {
            for (const std::string& g : *owned[wp]) {
                add(prefix_runs_[glob_prefix(g)], wp);
                add(head_runs_[glob_literal_head(g)], wp);
                add(glob_runs_[g], wp);
            }
        }
    }

    std::vector<std::size_t> candidates(std::size_t a, const std::vector<std::string>& globs,
                                        DisjointSets& sets) {
        std::vector<std::size_t> out;
        const auto exact = [&](auto& runs, std::string_view key) {
            if (const auto it = runs.find(key); it != runs.end()) {
                collect(it->second, a, sets, out);
            }
        };
        for (const std::string& g : globs) {
            const std::string_view prefix = glob_prefix(g);
            exact(glob_runs_, g);
            if (!prefix.empty()) {
                collect_prefixed(prefix, a, sets, out);
                for (std::size_t n = 1; n < prefix.size(); ++n) {
                    exact(prefix_runs_, prefix.substr(0, n));
                }
            }
            collect_prefixed(glob_literal_head(g), a, sets, out);
            for (std::size_t n = 0; n <= prefix.size(); ++n) {
                exact(head_runs_, prefix.substr(0, n));
            }
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

private:
    struct Run {
        std::vector<std::size_t> members; // ascending
        bool unified = false;             // all in one lane, for good
    };

    static void add(Run& run, std::size_t wp) {
        if (run.members.empty() || run.members.back() != wp) {
            run.members.push_back(wp);
        }
    }

    // The members after `a` that are not in a's lane.
    static void collect(Run& run, std::size_t a, DisjointSets& sets,
                        std::vector<std::size_t>& out) {
        const std::size_t lane = sets.find(a);
        const std::size_t first = sets.find(run.members.front());
        if (run.unified && first == lane) {
            return;
        }
        bool unified = true;
        for (const std::size_t m : run.members) {
            const std::size_t root = sets.find(m);
            unified = unified && root == first;
            if (m > a && root != lane) {
                out.push_back(m);
            }
        }
        run.unified = unified;
    }

    // Every run whose glob prefix starts with `start`.
    void collect_prefixed(std::string_view start, std::size_t a, DisjointSets& sets,
                          std::vector<std::size_t>& out) {
        for (auto it = prefix_runs_.lower_bound(start);
             it != prefix_runs_.end() && it->first.starts_with(start); ++it) {
            collect(it->second, a, sets, out);
        }
    }

    std::map<std::string_view, Run> prefix_runs_; // sorted: prefix ranges are contiguous
    std::unordered_map<std::string_view, Run> head_runs_;
    std::unordered_map<std::string_view, Run> glob_runs_;
};

// Kahn's algorithm restricted to the lane, always taking the smallest ready WP: the
// lexicographically smallest order in which every WP follows its in-lane dependencies.
std::vector<std::string> order_lane(const std::vector<std::string>& members,
                                    const std::unordered_map<std::string, std::size_t>& position,
                                    const DependencyMap& graph) {
    std::map<std::string, std::size_t> pending;
    std::map<std::string, std::vector<std::string>> dependents;
    for (const std::string& wp : members) {
        std::size_t n = 0;
        for (const std::string& dep : graph[position.at(wp)].second) {
            if (std::binary_search(members.begin(), members.end(), dep)) {
                ++n;
                dependents[dep].push_back(wp);
            }
        }
        pending[wp] = n;
    }
    std::priority_queue<std::string, std::vector<std::string>, std::greater<>> ready;
    for (const auto& [wp, n] : pending) {
        if (n == 0) {
            ready.push(wp);
        }
    }
    std::vector<std::string> order;
    while (!ready.empty()) {
        std::string wp = ready.top();
        ready.pop();
        for (const std::string& next : dependents[wp]) {
            if (--pending[next] == 0) {
                ready.push(next);
            }
        }
        order.push_back(std::move(wp));
    }
    return order; // complete: compute_lanes has ruled out cycles
}

std::string cycle_text(const std::vector<std::string>& cycle) {
    std::string out;
    for (const std::string& wp : cycle) {
        out += (out.empty() ? "" : " -> ") + wp;
    }
    return out;
}

std::string lane_id_for(std::size_t k) {
    std::string id = "lane-";
    append_utf8(id, static_cast<char32_t>(U'a' + k));
    return id;
}

} // namespace

std::optional<ExecutionMode> parse_execution_mode(std::string_view text) {
    if (text == "code_change") {
        return ExecutionMode::code_change;
    }
    if (text == "planning_artifact") {
        return ExecutionMode::planning_artifact;
    }
    return std::nullopt;
}

Error invalid_execution_mode(const std::string& wp, const std::string& value) {
    return Error(Exit::input, "INVALID_EXECUTION_MODE",
                 wp + ": execution_mode " + python_repr(value) +
                     " is neither 'code_change' nor 'planning_artifact'",
                 "use code_change for a WP that changes code, planning_artifact for one that "
                 "only writes planning documents");
}

bool globs_overlap(std::string_view a, std::string_view b) {
    if (a == b) {
        return true;
    }
    const std::string_view pa = glob_prefix(a);
    const std::string_view pb = glob_prefix(b);
    if (!pa.empty() && !pb.empty() && (pb.starts_with(pa) || pa.starts_with(pb))) {
        return true;
    }
    return fnmatch(pb, a) || fnmatch(pa, b);
}

std::vector<std::string> infer_surfaces(std::string_view body) {
    // str.lower(): only U+212A (Kelvin sign) and U+0130 lower-case to something holding an
    // ASCII letter, and every keyword is ASCII.
    std::string low;
    low.reserve(body.size());
    for (std::size_t i = 0; i < body.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(body[i]);
        if (body.substr(i, 3) == "\xE2\x84\xAA") {
            low += 'k';
            i += 2;
        } else if (body.substr(i, 2) == "\xC4\xB0") {
            low += "i\xCC\x87";
            i += 1;
        } else {
            low += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
        }
    }
    struct Surface {
        std::string_view name;
        std::vector<std::string_view> keywords;
    };
    static const std::array<Surface, 8> table{{
        {"api", {"api", "endpoint", "route", "view"}},
        {"app-shell", {"app shell", "app-shell", "navigation", "sidebar", "layout"}},
        {"artifact-rendering", {"artifact", "render", "template"}},
        {"dashboard", {"dashboard", "landing page", "landing-page"}},
        {"legacy-cleanup", {"legacy", "cleanup", "deprecat", "remov"}},
        {"tests", {"test suite", "test infrastructure", "e2e test", "integration test"}},
        {"tracker-integration", {"tracker", "saas", "sync"}},
        {"workspace", {"workspace", "mission workspace"}},
    }};
    std::vector<std::string> out;
    for (const Surface& s : table) {
        if (std::any_of(s.keywords.begin(), s.keywords.end(),
                        [&](std::string_view k) { return low.find(k) != std::string::npos; })) {
            out.emplace_back(s.name);
        }
    }
    return out;
}

std::vector<std::string> LanesManifest::planning_artifact_wps() const {
    for (const Lane& lane : lanes) {
        if (lane.is_planning()) {
            return lane.wp_ids;
        }
    }
    return {};
}

const Lane* LanesManifest::lane_for_wp(std::string_view wp_id) const {
    for (const Lane& lane : lanes) {
        if (std::find(lane.wp_ids.begin(), lane.wp_ids.end(), wp_id) != lane.wp_ids.end()) {
            return &lane;
        }
    }
    return nullptr;
}

DependencyReach::DependencyReach(const DependencyMap& graph) {
    for (const auto& [wp, deps] : graph) {
        edges_[wp] = deps;
    }
}

bool DependencyReach::depends_on(const std::string& from, const std::string& to) const {
    return transitive_dependencies(from).count(to) > 0;
}

std::set<std::string> DependencyReach::transitive_dependencies(const std::string& from) const {
    std::set<std::string> seen;
    std::vector<std::string> stack{from};
    while (!stack.empty()) {
        const std::string wp = std::move(stack.back());
        stack.pop_back();
        if (const auto it = edges_.find(wp); it != edges_.end()) {
            for (const std::string& dep : it->second) {
                if (seen.insert(dep).second) {
                    stack.push_back(dep);
                }
            }
        }
    }
    return seen;
}

LanesManifest compute_lanes(const LaneInputs& in) {
    LanesManifest out;
    out.mission_slug = in.mission_slug;
    out.mission_id = in.mission_id.empty() ? in.mission_slug : in.mission_id;
    out.mission_branch = mission_branch_name(in.mission_slug);
    out.target_branch = in.target_branch;
    out.computed_at = in.computed_at;

    std::unordered_map<std::string, std::size_t> position; // in the graph
    std::vector<std::string> all;
    for (std::size_t i = 0; i < in.graph.size(); ++i) {
        position.emplace(in.graph[i].first, i);
        all.push_back(in.graph[i].first);
    }
    all = sorted_unique(std::move(all));
    std::vector<std::string> code, planning;
    for (const std::string& wp : all) {
        const auto m = in.manifests.find(wp);
        if (m != in.manifests.end() && m->second.mode == ExecutionMode::planning_artifact) {
            planning.push_back(wp);
        } else if (m == in.manifests.end()) {
            const auto gap = in.manifest_gaps.find(wp);
            Error e(Exit::check_failed, "MISSING_MANIFEST",
                    "Executable WP '" + wp + "' has no ownership manifest" +
                        (gap == in.manifest_gaps.end() ? "" : ": " + gap->second.reason),
                    "set execution_mode and owned_files in the WP's frontmatter, or run "
                    "finalize-tasks to infer them");
            if (gap != in.manifest_gaps.end() && !gap->second.path.empty()) {
                e.at(gap->second.path);
            }
            throw e;
        } else {
            code.push_back(wp);
        }
    }

    Lane planning_lane;
    if (!planning.empty()) {
        planning_lane.lane_id = std::string(kPlanningLaneId);
        planning_lane.wp_ids = planning;
        for (const std::string& wp : planning) {
            const auto& files = in.manifests.at(wp).owned_files;
            planning_lane.write_scope.insert(planning_lane.write_scope.end(), files.begin(),
                                             files.end());
        }
        planning_lane.write_scope = sorted_unique(std::move(planning_lane.write_scope));
        planning_lane.predicted_surfaces = {"planning"};
    }
    if (code.empty()) {
        if (!planning.empty()) {
            out.lanes.push_back(std::move(planning_lane));
        }
        return out;
    }

    // 3.1.1 fails on any cycle here: the topological sort catches cycles among code WPs
    // and the transitive closure of the collapse report recurses forever on the rest.
    if (const auto cycles = detect_cycles(in.graph); !cycles.empty()) {
        throw Error(Exit::check_failed, "DEPENDENCY_CYCLE",
                    "dependency cycle: " + cycle_text(cycles.front()),
                    "remove one dependency of the cycle");
    }

    std::unordered_map<std::string, std::size_t> code_index;
    for (std::size_t i = 0; i < code.size(); ++i) {
        code_index.emplace(code[i], i);
    }
    DisjointSets sets(code.size());

    // Rule 1: every dependency between two code WPs shares a lane.
    for (std::size_t i = 0; i < code.size(); ++i) {
        for (const std::string& dep : in.graph[position.at(code[i])].second) {
            const auto d = code_index.find(dep);
            if (d == code_index.end()) {
                continue;
            }
            if (sets.find(i) != sets.find(d->second)) {
                out.events.push_back({code[i], dep, "dependency", code[i] + " depends on " + dep});
            }
            sets.unite(i, d->second);
        }
    }

    // Rule 2: overlapping write scopes share a lane, pairs in lexicographic order. A pair
    // already in one lane can neither merge nor add an event, so it is not tested.
    std::vector<const std::vector<std::string>*> owned;
    for (const std::string& wp : code) {
        owned.push_back(&in.manifests.at(wp).owned_files);
    }
    OverlapIndex index(owned);
    for (std::size_t a = 0; a < code.size(); ++a) {
        for (const std::size_t b : index.candidates(a, *owned[a], sets)) {
            if (sets.find(a) == sets.find(b) || !any_overlap(*owned[a], *owned[b])) {
                continue;
            }
            out.events.push_back(
                {code[a], code[b], "write_scope_overlap", describe_overlap(*owned[a], *owned[b])});
            sets.unite(a, b);
        }
    }
    // Rule 3 (shared predicted surfaces) merges only pairs whose globs overlap; Rule 2 has
    // already put every such pair in one lane, so it can neither merge nor add an event.

    std::vector<std::vector<std::string>> groups;
    std::unordered_map<std::size_t, std::size_t> group_of_root;
    for (std::size_t i = 0; i < code.size(); ++i) {
        const auto [it, fresh] = group_of_root.emplace(sets.find(i), groups.size());
        if (fresh) {
            groups.emplace_back();
        }
        groups[it->second].push_back(code[i]); // code is sorted, so groups are too
    }
    for (std::size_t k = 0; k < groups.size(); ++k) {
        Lane lane;
        lane.lane_id = lane_id_for(k);
        lane.wp_ids = order_lane(groups[k], position, in.graph);
        for (const std::string& wp : groups[k]) {
            const auto& files = in.manifests.at(wp).owned_files;
            lane.write_scope.insert(lane.write_scope.end(), files.begin(), files.end());
            if (!in.bodies.empty()) {
                const auto body = in.bodies.find(wp);
                for (std::string& s : infer_surfaces(
                         body == in.bodies.end() ? "" : std::string_view(body->second))) {
                    lane.predicted_surfaces.push_back(std::move(s));
                }
            }
        }
        lane.write_scope = sorted_unique(std::move(lane.write_scope));
        lane.predicted_surfaces = sorted_unique(std::move(lane.predicted_surfaces));
        // Rule 1 joins every code-to-code dependency, so no code lane depends on another
        // and every lane is in parallel group 0.
        out.lanes.push_back(std::move(lane));
    }
    if (!planning.empty()) {
        out.lanes.push_back(std::move(planning_lane));
    }

    const DependencyReach reach(in.graph);
    for (const CollapseEvent& e : out.events) {
        if (e.rule != "dependency" && !reach.depends_on(e.wp_a, e.wp_b) &&
            !reach.depends_on(e.wp_b, e.wp_a)) {
            ++out.independent_wps_collapsed;
        }
    }
    return out;
}

Json lanes_json(const LanesManifest& m) {
    Json lanes = Json::array();
    for (const Lane& lane : m.lanes) {
        lanes.push_back({{"lane_id", lane.lane_id},
                         {"wp_ids", lane.wp_ids},
                         {"write_scope", lane.write_scope},
                         {"predicted_surfaces", lane.predicted_surfaces},
                         {"depends_on_lanes", lane.depends_on_lanes},
                         {"parallel_group", lane.parallel_group}});
    }
    Json doc = {{"version", m.version},
                {"mission_slug", m.mission_slug},
                {"mission_id", m.mission_id},
                {"mission_branch", m.mission_branch},
                {"target_branch", m.target_branch},
                {"lanes", lanes},
                {"computed_at", m.computed_at},
                {"computed_from", m.computed_from},
                {"planning_artifact_wps", m.planning_artifact_wps()}};
    if (!m.events.empty()) {
        doc["collapse_report"] = collapse_report_json(m);
    }
    return doc;
}

Json collapse_report_json(const LanesManifest& m) {
    if (std::all_of(m.lanes.begin(), m.lanes.end(),
                    [](const Lane& l) { return l.is_planning(); })) {
        return nullptr;
    }
    Json events = Json::array();
    Json by_rule = Json::object();
    for (const CollapseEvent& e : m.events) {
        events.push_back(
            {{"wp_a", e.wp_a}, {"wp_b", e.wp_b}, {"rule", e.rule}, {"evidence", e.evidence}});
        by_rule[e.rule] = by_rule.value(e.rule, 0) + 1;
    }
    return {{"events", events},
            {"total_merges", m.events.size()},
            {"independent_wps_collapsed", m.independent_wps_collapsed},
            {"by_rule", by_rule}};
}

std::string serialize_lanes(const LanesManifest& manifest) {
    return dump_python(lanes_json(manifest), {.indent = 2}) + "\n";
}

std::string mission_branch_name(std::string_view mission_slug) {
    return "kitty/mission-" + std::string(mission_slug);
}

std::string mission_branch_of(const LanesManifest& lanes, std::string_view mission_slug) {
    return lanes.mission_branch.empty() ? mission_branch_name(mission_slug) : lanes.mission_branch;
}

std::string code_lane_branch(std::string_view mission_slug, std::string_view lane_id) {
    return mission_branch_name(mission_slug) + "-" + std::string(lane_id);
}

std::string lane_branch_name(std::string_view mission_slug, const Lane& lane,
                             std::string_view planning_base_branch) {
    if (lane.is_planning()) {
        return std::string(planning_base_branch);
    }
    return code_lane_branch(mission_slug, lane.lane_id);
}

} // namespace kitty
