// Cycle detection over a WP dependency map, exactly as spec-kitty 3.1.1's
// core/dependency_graph.py reports cycles (../shared/spec/parse-tasks.md §1.6).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kitty/mission.hpp"
#include "kitty/tasks_md.hpp"

namespace kitty {

// Depth-first, nodes in key order and neighbours in list order; every back edge adds
// the path from the revisited node back to it, e.g. {WP01, WP02, WP01}. A self-loop is
// {X, X}; ids that are not keys are leaves. Empty when the graph is acyclic.
std::vector<std::vector<std::string>> detect_cycles(const DependencyMap& graph);

// The mission's dependency graph, the one rule finalize-tasks and lanes share: wps.yaml's
// when there is one (validated, Error(Exit::input) when it is not), else the tasks.md
// dependency map, else empty.
struct MissionGraph {
    DependencyMap graph;
    bool from_wps_yaml = false;
    std::optional<std::string> tasks_md; // tasks.md's text, when the graph came from it
};
MissionGraph mission_dependency_graph(const Mission& mission);

} // namespace kitty
