// Cycle detection over a WP dependency map, exactly as spec-kitty 3.1.1's
// core/dependency_graph.py reports cycles (../shared/spec/parse-tasks.md §1.6).
#pragma once

#include <string>
#include <vector>

#include "kitty/tasks_md.hpp"

namespace kitty {

// Depth-first, nodes in key order and neighbours in list order; every back edge adds
// the path from the revisited node back to it, e.g. {WP01, WP02, WP01}. A self-loop is
// {X, X}; ids that are not keys are leaves. Empty when the graph is acyclic.
std::vector<std::vector<std::string>> detect_cycles(const DependencyMap& graph);

} // namespace kitty
