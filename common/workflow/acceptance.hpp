// The acceptance gate (issue 22 §1, ../shared/spec/next-loop.md §9; private to
// common/workflow/): what a mission must satisfy before it is accepted, as facts read from
// disk and a pure verdict on them, shared by `accept` and `next`'s accept step.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "kitty/json.hpp"
#include "loop_model.hpp"

namespace kitty::loop {

// The planning files a mission must have to be accepted (and that mission info lists).
inline constexpr std::array<const char*, 3> kRequiredArtifacts = {"spec.md", "plan.md", "tasks.md"};

struct AcceptanceFacts {
    struct Wp {
        std::string id;
        WpLane lane = WpLane::planned;
        std::filesystem::path file;
        std::string agent, shell_pid, assignee; // frontmatter; read only when strict
    };
    std::string slug;
    std::vector<Wp> wps;
    bool strict = true;                                 // not --lenient
    std::filesystem::path tasks_md;                     // for unchecked subtasks
    std::vector<std::pair<int, std::string>> unchecked; // tasks.md line, stripped text
    std::vector<std::pair<std::filesystem::path, int>> clarifications; // file, line
    std::vector<std::filesystem::path> missing_artifacts;
    std::vector<std::string> dirty; // the main checkout's changed paths
    bool lanes_present = false;
    std::filesystem::path lanes_json;
    Json merge_problems = Json::array(); // the merge plan's and its forecast's
};

struct AcceptanceProblem {
    std::string code;
    std::string message;
    std::filesystem::path path; // empty when no file is to blame
    int line = 0;
    std::string fix;
};

// Every unmet check, in a fixed order: work packages, frontmatter (strict), subtasks,
// clarification markers, artifacts, the main checkout, lanes and the merge.
std::vector<AcceptanceProblem> acceptance_problems(const AcceptanceFacts& facts);

// The facts of the mission `state` holds (the merge plan and forecast included).
AcceptanceFacts read_acceptance_facts(LoopState& state, bool strict);

Json problem_json(const AcceptanceProblem& problem);

} // namespace kitty::loop
