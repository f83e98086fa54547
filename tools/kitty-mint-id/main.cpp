// kitty-mint-id: mission identities (ULIDs) and mission creation.
#include <filesystem>
#include <string>

#include "kitty/cli.hpp"
#include "kitty/clock.hpp"
#include "kitty/mission_create.hpp"
#include "kitty/project.hpp"
#include "kitty/ulid.hpp"

int main(int argc, char** argv) {
    kitty::Tool tool("kitty-mint-id",
                     "Mint mission identities (ULIDs), decode them, and create or stamp missions.\n"
                     "Without a subcommand, prints a new mission_id.");
    CLI::App& app = tool.app();
    std::function<kitty::Outcome()> action;

    int count = 0;
    app.add_option("--count", count, "Mint N ids (printed as a list)")
        ->check(CLI::Range(1, 100000));
    action = [&] {
        kitty::Outcome out;
        if (count == 0) {
            const std::string id = kitty::mint_ulid().str();
            out.document = {{"mission_id", id}};
            out.text = id + "\n";
            return out;
        }
        out.document = {{"mission_ids", kitty::Json::array()}};
        for (int i = 0; i < count; ++i) {
            const std::string id = kitty::mint_ulid().str();
            out.document["mission_ids"].push_back(id);
            out.text += id + "\n";
        }
        return out;
    };

    std::string ulid_text;
    auto* decode = app.add_subcommand("decode", "Show the UTC time embedded in a ULID");
    decode->add_option("ulid", ulid_text, "The ULID (26 upper-case Crockford base32 characters)")
        ->required();
    decode->final_callback([&] {
        action = [&] {
            const kitty::Ulid u = kitty::parse_ulid(ulid_text);
            kitty::Outcome out;
            const std::string when = kitty::iso_millis_z(u.timestamp_ms());
            out.document = {{"ulid", u.str()},
                            {"timestamp_ms", u.timestamp_ms()},
                            {"timestamp", when},
                            {"randomness", u.randomness_hex()}};
            out.text = when + "\n";
            return out;
        };
    });

    kitty::CreateRequest request;
    std::string target_branch, friendly_name, project_dir = ".";
    auto* create = app.add_subcommand(
        "create", "Create kitty-specs/NNN-<slug>/ with meta.json and a fresh mission_id");
    create->add_option("slug", request.slug, "Kebab-case slug: a-z, 0-9 and single hyphens")
        ->required();
    create->add_option("--mission-type", request.mission_type, "Mission type")
        ->default_str("software-dev");
    create->add_option("--friendly-name", friendly_name,
                       "Human title (default: the slug with spaces for hyphens)");
    create->add_option("--target-branch", target_branch,
                       "Planning and merge branch (default: the checked-out branch, else main)");
    create->add_option("--project", project_dir, "Start the project search here (default: .)");
    create->final_callback([&] {
        action = [&] {
            if (!friendly_name.empty()) {
                request.friendly_name = friendly_name;
            }
            if (!target_branch.empty()) {
                request.target_branch = target_branch;
            }
            request.start_dir = project_dir;
            const kitty::CreatedMission created = kitty::create_mission(request);
            return kitty::Outcome::success(created.to_json(), created.to_text());
        };
    });

    std::string mission;
    auto* stamp = app.add_subcommand(
        "stamp", "Give one existing mission a mission_id if its meta.json has none");
    stamp
        ->add_option("mission", mission,
                     "Mission directory, or a selector: slug, 079-slug, mission_id or prefix")
        ->required();
    stamp->add_option("--project", project_dir, "Resolve selectors from here (default: .)");
    stamp->final_callback([&] {
        action = [&] {
            const auto result = kitty::stamp_mission(kitty::Mission::open(mission, project_dir));
            return kitty::Outcome::success(result.to_json(), result.to_text());
        };
    });

    return tool.run(argc, argv, [&] { return action(); });
}
