// Agent liveness: heartbeat files and the live/idle/stale rule (kitty/liveness.hpp).
#include "kitty/liveness.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <set>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/json.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"

namespace kitty {

namespace fs = std::filesystem;

std::string_view liveness_name(Liveness liveness) {
    switch (liveness) {
    case Liveness::live:
        return "live";
    case Liveness::idle:
        return "idle";
    case Liveness::stale:
        return "stale";
    case Liveness::none:
        break;
    }
    return "";
}

std::string wp_holder(std::string_view lane, const std::string& actor,
                      const std::string& frontmatter_agent) {
    if (const auto held = lane_of(lane); !held || !kHeldLanes.contains(*held)) {
        return "";
    }
    static const std::set<std::string, std::less<>> generic = {
        "", "implement-command", "user", "merge", "finalize-tasks", "kitty"};
    return generic.count(actor) ? frontmatter_agent : actor;
}

Liveness classify_holder(const HolderSigns& signs, std::int64_t lease_seconds) {
    if (!signs.held) {
        return Liveness::none;
    }
    if (signs.shell_alive.value_or(false) ||
        (signs.heartbeat_age >= 0 && signs.heartbeat_age <= kLiveHeartbeatSeconds)) {
        return Liveness::live;
    }
    // The youngest sign of life decides; none known is not proof of death.
    std::int64_t youngest = -1;
    for (const std::int64_t age : {signs.heartbeat_age, signs.state_age}) {
        if (age >= 0) {
            youngest = youngest < 0 ? age : std::min(youngest, age);
        }
    }
    return youngest > lease_seconds ? Liveness::stale : Liveness::idle;
}

std::optional<bool> shell_alive(std::string_view text) {
    long pid = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc() || end != text.data() + text.size() || pid <= 1) {
        return std::nullopt;
    }
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

fs::path heartbeat_file(const Mission& mission, const std::string& agent) {
    return mission.project_root() / ".kittify" / "runtime" / "heartbeats" / mission.slug() /
           (checked_path_component(agent, "agent name") + ".json");
}

std::optional<Heartbeat> read_heartbeat(const Mission& mission, const std::string& agent) {
    if (!mission.root()) {
        return std::nullopt;
    }
    try {
        const fs::path file = heartbeat_file(mission, agent);
        std::error_code ec;
        if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > 4096) {
            return std::nullopt;
        }
        const Json doc = parse_json(read_file_bytes(file), file);
        Heartbeat beat;
        beat.at = doc.at("at").get<std::int64_t>();
        beat.shell_pid = doc.value("shell_pid", "");
        return beat;
    } catch (const std::exception&) {
        return std::nullopt; // a derived file: unreadable is simply no heartbeat
    }
}

void touch_heartbeat(const Mission& mission, const std::string& agent,
                     const std::string& shell_pid) {
    if (!mission.root() || agent.empty()) {
        return;
    }
    try {
        const std::int64_t now = now_utc().seconds;
        if (const auto last = read_heartbeat(mission, agent);
            last && last->shell_pid == shell_pid && now - last->at >= 0 && now - last->at < 10) {
            return;
        }
        const fs::path file = mission.writable(heartbeat_file(mission, agent));
        fs::create_directories(file.parent_path());
        const std::string text =
            dump_python({{"agent", agent}, {"at", now}, {"shell_pid", shell_pid}}) + "\n";
        write_derived_file(file, text);
    } catch (const std::exception&) {
        // best effort: see the header
    }
}

HolderSigns holder_signs(const Mission& mission, const std::string& holder,
                         const std::string& shell_pid, std::int64_t state_age) {
    HolderSigns signs;
    signs.held = !holder.empty();
    if (!signs.held) {
        return signs;
    }
    signs.state_age = state_age;
    signs.shell_alive = shell_alive(shell_pid);
    if (const auto beat = read_heartbeat(mission, holder)) {
        signs.heartbeat_age = std::max<std::int64_t>(0, now_utc().seconds - beat->at);
        if (!signs.shell_alive.value_or(false)) {
            if (const auto alive = shell_alive(beat->shell_pid)) {
                signs.shell_alive = alive;
            }
        }
    }
    return signs;
}

std::int64_t claim_lease_seconds(const fs::path& project_root) {
    const auto value = project_setting(project_root, "claim_lease_minutes");
    if (!value) {
        return kDefaultLeaseSeconds;
    }
    std::int64_t minutes = 0;
    const auto [end, ec] =
        std::from_chars(value->text.data(), value->text.data() + value->text.size(), minutes);
    if (value->kind != YamlNode::Kind::integer || ec != std::errc() ||
        end != value->text.data() + value->text.size() || minutes < 1 || minutes > 525600) {
        const fs::path config = project_root / ".kittify/config.yaml";
        throw Error(Exit::input, "INVALID_CONFIG",
                    config.string() + ": claim_lease_minutes must be a whole number of minutes "
                                      "from 1 to 525600",
                    "e.g. claim_lease_minutes: 30")
            .at(config, value->line);
    }
    return minutes * 60;
}

} // namespace kitty
