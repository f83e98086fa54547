// Mission views (issue 22 §3, docs/tools/kitty-next.md#mission-types): 3.1.1's `mission
// list|current|info`, whose subject is the mission *type* (the blueprint a mission runs),
// and `status --all`, one row per mission of the project (kitty/status.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "kitty/loop.hpp"
#include "kitty/result.hpp"

namespace kitty {

struct MissionType {
    std::string key;
    std::string name;
    std::string version;
    std::string description;
    std::vector<std::pair<std::string, std::string>> steps; // id, title, in order
    std::vector<std::string> required_artifacts;
};

// The mission types kitty runs: its built-in runtime (templates/loop/mission-runtime.yaml).
std::vector<MissionType> mission_types();

// The types kitty runs, and the types the project's missions record that it does not.
Outcome mission_list_command(const std::filesystem::path& start_dir);
// One type's steps and required artifacts; an unknown key is Error(Exit::input,
// "UNKNOWN_MISSION_TYPE").
Outcome mission_info_command(const std::string& key);
// The type of the current mission (LoopTarget's rule).
Outcome mission_current_command(const LoopTarget& target);

} // namespace kitty
