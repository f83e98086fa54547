// Agent liveness (issue 22 §4, ARCHITECTURE.md decision 14): whether the agent holding a
// work package is live, idle or stale. Every loop call an agent makes refreshes its
// heartbeat, a small derived file (never an event); a shell_pid running on this host counts
// as live too. A claim stale beyond the lease may be taken over by another agent (next).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kitty/mission.hpp"

namespace kitty {

enum class Liveness { none, live, idle, stale };
std::string_view liveness_name(Liveness liveness);

// Who holds a WP: nobody unless it is claimed, in_progress or in_review; then the actor of
// its latest event, or its frontmatter agent when that actor is one of 3.1.1's generic ones
// (implement-command, user, merge, finalize-tasks, kitty, or none).
std::string wp_holder(std::string_view lane, const std::string& actor,
                      const std::string& frontmatter_agent);

// A heartbeat younger than this shows its agent live.
inline constexpr std::int64_t kLiveHeartbeatSeconds = 5 * 60;
// The default lease: a claim without a sign of life for longer is stale.
inline constexpr std::int64_t kDefaultLeaseSeconds = 30 * 60;

// What is known about a holder; ages in seconds, -1 when unknown.
struct HolderSigns {
    bool held = false;
    std::optional<bool> shell_alive; // its shell_pid runs on this host; none when unknown
    std::int64_t heartbeat_age = -1;
    std::int64_t state_age = -1; // since the WP's last transition
};

// live: a running shell or a heartbeat within kLiveHeartbeatSeconds; stale: no sign of life
// (heartbeat, transition) within the lease; idle otherwise.
Liveness classify_holder(const HolderSigns& signs, std::int64_t lease_seconds);

// Whether a shell_pid (as text, from a WP file or a heartbeat) names a process running on
// this host; nullopt when it is not a pid.
std::optional<bool> shell_alive(std::string_view pid);

struct Heartbeat {
    std::int64_t at = 0; // seconds since the epoch (now_utc, so SOURCE_DATE_EPOCH applies)
    std::string shell_pid;
};

// <root>/.kittify/runtime/heartbeats/<slug>/<agent>.json
std::filesystem::path heartbeat_file(const Mission& mission, const std::string& agent);

// Records that `agent` is working on the mission now. Best effort: a heartbeat that cannot
// be written never fails the command it belongs to, and it is not fsynced (a lost one only
// makes the agent look idle). Rewritten at most every 10 seconds.
void touch_heartbeat(const Mission& mission, const std::string& agent,
                     const std::string& shell_pid);

// The agent's last heartbeat on the mission, if any (an unreadable one is none).
std::optional<Heartbeat> read_heartbeat(const Mission& mission, const std::string& agent);

// The signs of life of `holder`, who holds a WP whose frontmatter records `shell_pid` and
// whose state is `state_age` seconds old.
HolderSigns holder_signs(const Mission& mission, const std::string& holder,
                         const std::string& shell_pid, std::int64_t state_age);

// The lease: `claim_lease_minutes` in .kittify/config.yaml (a positive integer), else
// kDefaultLeaseSeconds. Any other value is Error(Exit::input, "INVALID_CONFIG").
std::int64_t claim_lease_seconds(const std::filesystem::path& project_root);

} // namespace kitty
