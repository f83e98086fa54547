// The mission dashboard (issue 22 §2, ARCHITECTURE.md decision 14, docs/tools/kitty-dashboard.md):
// what a mission looks like as one self-contained HTML page — the kanban of WPs by lane
// state, the execution lanes as an SVG graph, the event timeline and what needs attention.
// The model is read once per change; rendering is a pure function of it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kitty/liveness.hpp"
#include "kitty/loop.hpp"
#include "kitty/result.hpp"

namespace kitty {

// The kanban's columns, in order; a tenth, canceled, appears only when a WP is canceled.
inline constexpr std::array<std::string_view, 8> kDashboardColumns = {
    "planned", "claimed", "in_progress", "for_review", "in_review", "approved", "done", "blocked"};

struct DashboardCard {
    std::string wp_id;
    std::string title;
    std::string lane;    // lane state: planned … canceled
    std::string lane_id; // its execution lane ("" when lanes.json has none)
    std::string agent;   // the frontmatter agent
    std::string holder;  // who holds it now ("" when nobody does)
    HolderSigns signs;   // the holder's signs of life (kitty/liveness.hpp)
    int subtasks_done = 0;
    int subtasks_total = 0;
    std::string since;                  // the time of its last transition ("" when none)
    std::int64_t seconds_in_state = -1; // -1 when unknown
    int review_cycles = 0;
    std::string last_rejection; // the first line of the latest rejection's feedback
};

struct DashboardLane {
    std::string lane_id;
    std::vector<std::string> wp_ids;
    std::vector<std::string> depends_on;
    int done = 0; // its WPs approved or done
};

struct DashboardEvent {
    std::string at;
    std::string wp_id;
    std::string from_lane;
    std::string to_lane;
    std::string actor;
};

// Something a person should look at: kind is blocked, stale_claim, dead_agent, conflict or
// unreadable.
struct AttentionItem {
    std::string kind;
    std::string subject; // a WP or lane id, or a file
    std::string message;
};

struct DashboardModel {
    std::string mission_slug;
    std::string mission_id;
    std::string target_branch;
    std::string generated_at;                          // ISO time of the read
    double progress = 0;                               // lane-weighted, percent
    std::int64_t lease_seconds = kDefaultLeaseSeconds; // after which a silent claim is stale
    std::vector<DashboardCard> cards;
    std::vector<DashboardLane> lanes;
    std::vector<DashboardEvent> events; // newest first, at most kDashboardEvents
    std::vector<AttentionItem> attention;
    std::vector<AttentionItem> conflicts; // the merge forecast's, as read
    std::vector<AttentionItem> unreadable;
};
inline constexpr std::size_t kDashboardEvents = 50;

Liveness card_liveness(const DashboardCard& card, std::int64_t lease_seconds);

// Blocked WPs, stale claims, dead agents, then the model's conflicts and unreadable files:
// a pure function of the cards.
std::vector<AttentionItem> attention_items(const DashboardModel& model, std::int64_t lease_seconds);

// Reads the mission (without the status lock: a picture, not a decision) and fills the
// model, attention included. `with_forecast` also runs the merge forecast in memory. A
// lease of 0 is the project's (claim_lease_seconds).
DashboardModel read_dashboard_model(const LoopTarget& target, std::int64_t lease_seconds,
                                    bool with_forecast = true);

// How a page is rendered: a file (no script at all) or served, where a small inline script
// swaps in the new page when the server's generation moves on.
struct DashboardPage {
    bool live = false;
    std::uint64_t generation = 0;
};
std::string render_dashboard_html(const DashboardModel& model, const DashboardPage& page);

// What `dashboard` does: --output writes the page; otherwise the server is started in the
// background, or --kill stops it.
struct DashboardRequest {
    LoopTarget target;
    std::optional<std::filesystem::path> output;
    int port = 0; // 0: a free port the system picks
    bool open = false;
    bool kill = false;
    std::int64_t lease_seconds = 0; // 0: claim_lease_minutes of .kittify/config.yaml
};

// --output: the page written atomically; the document names the file and the counts.
Outcome dashboard_file_command(const DashboardRequest& request);

} // namespace kitty
