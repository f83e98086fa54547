// `mission list|current|info`: the mission types kitty runs (issue 22 §3).
#include "kitty/mission_views.hpp"

#include <map>
#include <set>

#include "acceptance.hpp"
#include "kitty/error.hpp"
#include "kitty/project.hpp"
#include "kitty/templates.hpp"
#include "kitty/text.hpp"
#include "kitty/yaml.hpp"
#include "loop_model.hpp"

namespace kitty {

namespace fs = std::filesystem;

namespace {

const YamlNode* entry(const YamlNode& mapping, std::string_view key) {
    for (const YamlEntry& e : mapping.entries) {
        if (e.first == key) {
            return &e.second;
        }
    }
    return nullptr;
}

std::string text_of(const YamlNode& mapping, std::string_view key) {
    const YamlNode* node = entry(mapping, key);
    return node && node->is_scalar() ? node->text : "";
}

Json type_json(const MissionType& type) {
    Json steps = Json::array();
    for (const auto& [id, title] : type.steps) {
        steps.push_back({{"id", id}, {"title", title}});
    }
    return {{"key", type.key},
            {"name", type.name},
            {"version", type.version},
            {"description", type.description},
            {"source", "built-in"},
            {"steps", steps},
            {"required_artifacts", type.required_artifacts}};
}

std::string type_text(const MissionType& type) {
    std::string out = type.key + " — " + type.name + " " + type.version + " (built-in)\n  " +
                      type.description + "\nSteps:\n";
    int n = 1;
    for (const auto& [id, title] : type.steps) {
        out += "  " + std::to_string(n++) + ". " + id + " – " + title + "\n";
    }
    out += "Required artifacts:";
    for (const std::string& a : type.required_artifacts) {
        out += " " + a;
    }
    return out + "\n";
}

const MissionType* find_type(const std::vector<MissionType>& types, const std::string& key) {
    for (const MissionType& t : types) {
        if (t.key == key) {
            return &t;
        }
    }
    return nullptr;
}

std::string known_keys(const std::vector<MissionType>& types) {
    std::string out;
    for (const MissionType& t : types) {
        out += (out.empty() ? "" : ", ") + t.key;
    }
    return out;
}

} // namespace

std::vector<MissionType> mission_types() {
    const YamlNode doc = parse_yaml(std::string(embedded_template("loop/mission-runtime.yaml")));
    const YamlNode* mission = entry(doc, "mission");
    const YamlNode* steps = entry(doc, "steps");
    if (!mission || !steps) {
        throw Error(Exit::internal, "BAD_RUNTIME",
                    "the built-in mission runtime has no mission "
                    "or steps");
    }
    MissionType type{text_of(*mission, "key"),
                     text_of(*mission, "name"),
                     text_of(*mission, "version"),
                     text_of(*mission, "description"),
                     {},
                     {}};
    for (const YamlNode& step : steps->items) {
        type.steps.emplace_back(text_of(step, "id"), text_of(step, "title"));
    }
    type.required_artifacts.assign(loop::kRequiredArtifacts.begin(),
                                   loop::kRequiredArtifacts.end());
    return {type};
}

Outcome mission_list_command(const fs::path& start_dir) {
    const fs::path root = find_project_root(start_dir);
    const std::vector<MissionType> types = mission_types();
    // The missions of each type, as their meta.json records it (3.1.1's default when unset).
    std::map<std::string, std::vector<std::string>> used;
    for (const MissionRef& ref : list_missions(root)) {
        std::string type = "software-dev";
        try {
            type = Mission::at_directory(ref.dir).identity().mission_type;
        } catch (const Error&) {
            // an unreadable meta.json: its mission is listed by status --all, not here
            continue;
        }
        used[type].push_back(ref.dir_name);
    }
    Json rows = Json::array();
    std::string text = "Mission types kitty runs:\n";
    for (const MissionType& type : types) {
        Json row = type_json(type);
        row["runs"] = true;
        row["missions"] = used.count(type.key) ? used.at(type.key) : std::vector<std::string>{};
        rows.push_back(std::move(row));
        text += "  " + type.key + "  " + type.name + " " + type.version + " — " + type.description +
                "\n";
    }
    std::string foreign;
    for (const auto& [key, missions] : used) {
        if (find_type(types, key)) {
            continue;
        }
        rows.push_back(
            {{"key", key}, {"source", "missions"}, {"runs", false}, {"missions", missions}});
        foreign += "  " + key + "  (" + join(missions) + ")\n";
    }
    if (!foreign.empty()) {
        text += "Recorded by missions of this project, not run by kitty:\n" + foreign;
    }
    text +=
        "A mission's type is chosen when it is created (agent mission create --mission-type).\n";
    return Outcome::success({{"mission_types", rows}}, text);
}

Outcome mission_info_command(const std::string& key) {
    const std::vector<MissionType> types = mission_types();
    const MissionType* type = find_type(types, key);
    if (!type) {
        throw Error(Exit::input, "UNKNOWN_MISSION_TYPE", "kitty runs no mission type '" + key + "'",
                    "the types it runs: " + known_keys(types) + " (spec-kitty mission list)");
    }
    return Outcome::success(type_json(*type), type_text(*type));
}

Outcome mission_current_command(const LoopTarget& target) {
    const Mission m = loop::open_loop_mission(target);
    const std::vector<MissionType> types = mission_types();
    const std::string& key = m.identity().mission_type;
    const MissionType* type = find_type(types, key);
    Json doc = {
        {"mission_slug", m.slug()},
        {"mission_id", m.identity().mission_id ? Json(*m.identity().mission_id) : Json(nullptr)},
        {"mission_type", key},
        {"runs", type != nullptr},
        {"type", type ? type_json(*type) : Json(nullptr)}};
    std::string text = "Mission " + m.slug() + " is of type " + key + "\n";
    text += type ? type_text(*type)
                 : "kitty does not run this type; it runs " + known_keys(types) + "\n";
    return Outcome::success(std::move(doc), text);
}

} // namespace kitty
