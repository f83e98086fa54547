// The mission dashboard's model and page (issue 22 §2, docs/tools/kitty-dashboard.md).
#include "kitty/dashboard.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "kitty/atomic_file.hpp"
#include "kitty/clock.hpp"
#include "kitty/error.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"
#include "loop_model.hpp"
#include "merge_plan.hpp"
#include "resolve.hpp"

namespace kitty {

namespace fs = std::filesystem;

Liveness card_liveness(const DashboardCard& card, std::int64_t lease_seconds) {
    return classify_holder(card.signs, lease_seconds);
}

namespace {

std::string minutes_text(std::int64_t seconds) {
    if (seconds < 0) {
        return "unknown";
    }
    const std::int64_t minutes = seconds / 60;
    if (minutes < 1) {
        return "under a minute";
    }
    if (minutes < 60) {
        return std::to_string(minutes) + " min";
    }
    if (minutes < 48 * 60) {
        return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
    }
    return std::to_string(minutes / (24 * 60)) + " d " + std::to_string(minutes / 60 % 24) + " h";
}

} // namespace

std::vector<AttentionItem> attention_items(const DashboardModel& model,
                                           std::int64_t lease_seconds) {
    std::vector<AttentionItem> out;
    for (const DashboardCard& card : model.cards) {
        if (card.lane == "blocked") {
            out.push_back({"blocked", card.wp_id,
                           card.wp_id + " is blocked" +
                               (card.seconds_in_state >= 0
                                    ? " (for " + minutes_text(card.seconds_in_state) + ")"
                                    : std::string())});
        }
    }
    for (const DashboardCard& card : model.cards) {
        const Liveness liveness = card_liveness(card, lease_seconds);
        if (liveness == Liveness::stale) {
            out.push_back({"stale_claim", card.wp_id,
                           card.wp_id + " has been held by " + card.holder + " for " +
                               minutes_text(card.seconds_in_state) +
                               " with no sign of life (lease " + minutes_text(lease_seconds) +
                               ")"});
        } else if (liveness == Liveness::idle && card.signs.shell_alive == false) {
            out.push_back({"dead_agent", card.wp_id,
                           "the shell of " + card.holder + ", who holds " + card.wp_id +
                               ", is not running on this host"});
        }
    }
    out.insert(out.end(), model.conflicts.begin(), model.conflicts.end());
    out.insert(out.end(), model.unreadable.begin(), model.unreadable.end());
    return out;
}

namespace {

// The first non-blank line of a review-cycle file's feedback (after its frontmatter).
std::string first_feedback_line(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        return "";
    }
    const std::string text = normalize_newlines(read_file_bytes(file));
    std::size_t pos = 0;
    if (text.starts_with("---\n")) {
        const std::size_t close = text.find("\n---\n", 3);
        pos = close == std::string::npos ? text.size() : close + 5;
    }
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        end = end == std::string::npos ? text.size() : end;
        const std::string_view line = py_strip(std::string_view(text).substr(pos, end - pos));
        if (!line.empty()) {
            return std::string(line.substr(0, 300));
        }
        pos = end + 1;
    }
    return "";
}

// What the cards take from the whole mission, read once: each WP's subtasks (tasks.md) and
// its number of rejections (the event log).
struct MissionReads {
    std::map<std::string, std::vector<loop::Subtask>> subtasks;
    std::map<std::string, int> rejections;
};

DashboardCard read_card(const loop::LoopState& state, const loop::LoopWp& wp,
                        const StatusSnapshot& snapshot, const MissionReads& reads, UtcTime now) {
    DashboardCard card;
    card.wp_id = wp.id;
    card.lane = lane_name(wp.lane);
    card.lane_id = wp.lane_id;
    const WpFrontmatter front = read_wp_file(wp.file());
    card.title = front.string_field("title").value_or("");
    card.agent = front.string_field("agent").value_or("");
    card.holder = wp.holder();
    const auto subtasks = reads.subtasks.find(wp.id);
    for (const loop::Subtask& subtask :
         subtasks == reads.subtasks.end() ? std::vector<loop::Subtask>{} : subtasks->second) {
        ++card.subtasks_total;
        card.subtasks_done += subtask.done ? 1 : 0;
    }
    if (const auto it = snapshot.work_packages.find(wp.id); it != snapshot.work_packages.end()) {
        card.since = it->second.last_transition_at;
        UtcTime at;
        if (parse_iso_timestamp(card.since, at, IsoForms::python)) {
            card.seconds_in_state = std::max<std::int64_t>(0, now.seconds - at.seconds);
        }
    }
    card.signs = holder_signs(state.mission, card.holder,
                              front.string_field("shell_pid").value_or(""), card.seconds_in_state);
    if (const auto it = reads.rejections.find(wp.id); it != reads.rejections.end()) {
        card.review_cycles = it->second;
    }
    if (const auto feedback = loop::review_feedback(state, wp.id)) {
        card.last_rejection = first_feedback_line(*feedback);
    }
    return card;
}

void read_forecast(loop::LoopState& state, DashboardModel& model) {
    const auto conflict = loop::forecast_conflict(state);
    if (!conflict) {
        return;
    }
    const std::string where =
        conflict->lane_id.empty() ? conflict->stop_lane_id : conflict->lane_id;
    model.conflicts.push_back(
        {"conflict", where,
         "merging " + conflict->other_branch + " into " + where +
             " would conflict: " + merge_detail::conflicts_text(conflict->conflicts) +
             "; `spec-kitty next` hands this to an agent as a resolve step"});
}

} // namespace

DashboardModel read_dashboard_model(const LoopTarget& target, std::int64_t lease_seconds,
                                    bool with_forecast) {
    loop::LoopState state = loop::read_loop_state(loop::open_loop_mission(target));
    if (lease_seconds <= 0) {
        lease_seconds = claim_lease_seconds(state.mission.project_root());
    }
    const StatusSnapshot& snapshot = state.status();
    const UtcTime now = now_utc();
    DashboardModel model;
    model.lease_seconds = lease_seconds;
    model.mission_slug = state.mission.slug();
    model.mission_id = state.mission.identity().mission_id.value_or("");
    model.generated_at = iso_seconds_z(now);
    model.progress = status_progress(snapshot);
    if (state.lanes) {
        model.target_branch = state.lanes->target_branch;
        for (const Lane& lane : state.lanes->lanes) {
            DashboardLane l{lane.lane_id, lane.wp_ids, lane.depends_on_lanes, 0};
            for (const std::string& id : lane.wp_ids) {
                const loop::LoopWp* wp = state.find(id);
                l.done += wp && (wp->lane == WpLane::approved || wp->lane == WpLane::done) ? 1 : 0;
            }
            model.lanes.push_back(std::move(l));
        }
    }
    MissionReads reads;
    try {
        reads.subtasks = loop::subtasks_by_wp(state.mission);
    } catch (const Error& e) {
        model.unreadable.push_back({"unreadable", "tasks.md", e.what()});
    }
    for (const StatusEvent& event : state.events()) {
        reads.rejections[event.wp_id] += loop::is_review_cycle_ref(event) ? 1 : 0;
    }
    for (const loop::LoopWp& wp : state.wps) {
        try {
            model.cards.push_back(read_card(state, wp, snapshot, reads, now));
        } catch (const Error& e) {
            DashboardCard card;
            card.wp_id = wp.id;
            card.lane = lane_name(wp.lane);
            card.lane_id = wp.lane_id;
            model.cards.push_back(std::move(card));
            model.unreadable.push_back({"unreadable", wp.file().filename().string(), e.what()});
        }
    }
    const auto& events = state.events();
    for (auto it = events.rbegin(); it != events.rend() && model.events.size() < kDashboardEvents;
         ++it) {
        model.events.push_back({it->at, it->wp_id, it->from_lane, it->to_lane, it->actor});
    }
    if (with_forecast && state.lanes) {
        try {
            read_forecast(state, model);
        } catch (const Error& e) {
            model.unreadable.push_back({"unreadable", "merge forecast", e.what()});
        }
    }
    model.attention = attention_items(model, lease_seconds);
    return model;
}

namespace {

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

constexpr std::string_view kStyle = R"(
:root{--bg:#f6f7f9;--fg:#1c1f24;--muted:#545b68;--card:#fff;--line:#cfd4dc;--accent:#0b57d0;
--warn:#b3261e;--ok:#146c2e;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--fg:#e4e7ec;--muted:#a9b0bc;
--card:#1b1e24;--line:#3a404b;--accent:#8ab4f8;--warn:#f2b8b5;--ok:#7dd89b}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);
color:var(--fg)}
main{padding:1rem;max-width:120rem;margin:0 auto}
a{color:var(--accent)}
.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:var(--card);
padding:.5rem;z-index:1}
h1{font-size:1.35rem;margin:0 0 .25rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.25rem 0 .5rem}
.meta{color:var(--muted);margin:0 0 .5rem;overflow-wrap:anywhere}
.progress{height:.6rem;max-width:24rem;background:var(--line);border-radius:.3rem;overflow:hidden}
.progress span{display:block;height:100%;background:var(--ok)}
.board{display:grid;gap:.75rem;grid-template-columns:repeat(auto-fill,minmax(13.5rem,1fr))}
.column{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.5rem;
min-width:0}
.column h3{font-size:.95rem;margin:0 0 .5rem;display:flex;justify-content:space-between}
.column ol,.attention ul,.timeline{list-style:none;margin:0;padding:0}
.column ol{display:grid;gap:.5rem}
.card{border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:6px;
padding:.4rem .55rem;background:var(--bg);overflow-wrap:anywhere}
.card:focus{outline:3px solid var(--accent);outline-offset:2px}
.card .id{font-weight:600}
.card dl{display:grid;grid-template-columns:auto 1fr;gap:0 .5rem;margin:.25rem 0 0;
font-size:.85rem;color:var(--muted)}
.card dd{margin:0;min-width:0}
.live{color:var(--ok)}.stale,.dead{color:var(--warn)}
.attention li{border-left:4px solid var(--warn);padding:.25rem .5rem;margin:.25rem 0;
background:var(--card);overflow-wrap:anywhere}
.calm{color:var(--ok)}
figure{margin:0;overflow-x:auto}
svg{max-width:100%;height:auto}
svg text{fill:var(--fg);font:12px system-ui,sans-serif}
svg rect{fill:var(--card);stroke:var(--line)}
svg rect.finished{stroke:var(--ok);stroke-width:2}
svg path{stroke:var(--muted);fill:none;stroke-width:1.5}
svg marker path{fill:var(--muted);stroke:none}
.timeline li{padding:.15rem 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
.timeline time{color:var(--muted);margin-right:.5rem}
@media (max-width:480px){main{padding:.5rem}body{font-size:14px}}
)";

// Swaps in the server's new page when its generation moves on: no reload, so focus and
// scroll stay where they were.
constexpr std::string_view kLiveScript = R"(
(function () {
  const token = new URLSearchParams(location.search).get('token') || '';
  let generation = document.getElementById('dashboard').dataset.generation;
  async function follow() {
    try {
      const r = await fetch('/wait?token=' + encodeURIComponent(token) + '&since=' + generation,
                            {cache: 'no-store'});
      if (!r.ok) throw new Error(r.status);
      const now = (await r.text()).trim();
      if (now !== generation) {
        const page = await fetch('/?token=' + encodeURIComponent(token), {cache: 'no-store'});
        const doc = new DOMParser().parseFromString(await page.text(), 'text/html');
        const fresh = doc.getElementById('dashboard');
        const focused = document.activeElement && document.activeElement.dataset
                          ? document.activeElement.dataset.wp : undefined;
        document.getElementById('dashboard').replaceWith(fresh);
        generation = fresh.dataset.generation;
        if (focused) {
          const card = document.querySelector('[data-wp="' + CSS.escape(focused) + '"]');
          if (card) card.focus();
        }
      }
      setTimeout(follow, 0);
    } catch (e) {
      setTimeout(follow, 2000);
    }
  }
  follow();
})();
)";

void render_card(std::string& out, const DashboardCard& card, std::int64_t lease_seconds) {
    out += "<li class=\"card\" tabindex=\"0\" data-wp=\"" + escape(card.wp_id) + "\"";
    if (!card.lane_id.empty()) {
        out += " data-lane-id=\"" + escape(card.lane_id) + "\"";
    }
    out += " aria-label=\"" + escape(card.wp_id + " " + card.title + ", " + card.lane) + "\">";
    out += "<div class=\"id\">" + escape(card.wp_id) + "</div>";
    if (!card.title.empty()) {
        out += "<div class=\"title\">" + escape(card.title) + "</div>";
    }
    out += "<dl>";
    const std::string who = card.holder.empty() ? card.agent : card.holder;
    if (!who.empty()) {
        out += "<dt>agent</dt><dd>" + escape(who);
        const Liveness liveness = card_liveness(card, lease_seconds);
        if (liveness != Liveness::none) {
            const std::string name(liveness_name(liveness));
            out +=
                " <span class=\"" + name + "\" data-liveness=\"" + name + "\">" + name + "</span>";
        }
        out += "</dd>";
    }
    if (card.subtasks_total > 0) {
        out += "<dt>subtasks</dt><dd data-subtasks>" + std::to_string(card.subtasks_done) + "/" +
               std::to_string(card.subtasks_total) + "</dd>";
    }
    if (card.seconds_in_state >= 0) {
        out += "<dt>in state</dt><dd><time datetime=\"" + escape(card.since) + "\">" +
               minutes_text(card.seconds_in_state) + "</time></dd>";
    }
    if (card.review_cycles > 0) {
        out += "<dt>reviews</dt><dd>" + std::to_string(card.review_cycles) + " rejected</dd>";
    }
    if (!card.last_rejection.empty()) {
        out += "<dt>last rejection</dt><dd>" + escape(card.last_rejection) + "</dd>";
    }
    out += "</dl></li>";
}

void render_board(std::string& out, const DashboardModel& model, std::int64_t lease_seconds) {
    std::vector<std::string> columns(kDashboardColumns.begin(), kDashboardColumns.end());
    std::set<std::string> named(columns.begin(), columns.end());
    for (const DashboardCard& card : model.cards) {
        if (!named.count(card.lane)) {
            named.insert(card.lane);
            columns.push_back(card.lane); // canceled, or a lane 3.1.1 reads that we do not show
        }
    }
    out += "<section aria-labelledby=\"board-h\"><h2 id=\"board-h\">Work packages</h2>"
           "<div class=\"board\">";
    for (const std::string& column : columns) {
        std::vector<const DashboardCard*> cards;
        for (const DashboardCard& card : model.cards) {
            if (card.lane == column) {
                cards.push_back(&card);
            }
        }
        const std::string id = "col-" + escape(column);
        out += "<section class=\"column\" data-lane=\"" + escape(column) + "\" aria-labelledby=\"" +
               id + "\"><h3 id=\"" + id + "\">" + escape(column) + " <span class=\"count\">" +
               std::to_string(cards.size()) + "</span></h3><ol>";
        for (const DashboardCard* card : cards) {
            render_card(out, *card, lease_seconds);
        }
        out += "</ol></section>";
    }
    out += "</div></section>";
}

// The execution lanes as a layered graph: a lane one column right of the deepest lane it
// depends on.
void render_lane_graph(std::string& out, const DashboardModel& model) {
    out += "<section aria-labelledby=\"lanes-h\"><h2 id=\"lanes-h\">Execution lanes</h2>";
    if (model.lanes.empty()) {
        out += "<p class=\"meta\">No lanes.json yet: finalize-tasks computes the lanes.</p>"
               "</section>";
        return;
    }
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < model.lanes.size(); ++i) {
        index.emplace(model.lanes[i].lane_id, i);
    }
    std::vector<int> depth(model.lanes.size(), -1);
    // Bounded by the number of lanes, so a cycle in a hand-edited lanes.json cannot loop.
    for (std::size_t round = 0; round <= model.lanes.size(); ++round) {
        for (std::size_t i = 0; i < model.lanes.size(); ++i) {
            int d = 0;
            for (const std::string& dep : model.lanes[i].depends_on) {
                const auto it = index.find(dep);
                if (it != index.end() && it->second != i) {
                    d = std::max(d, depth[it->second] + 1);
                }
            }
            depth[i] = std::min<int>(d, static_cast<int>(model.lanes.size()));
        }
    }
    constexpr int kW = 168, kH = 46, kGapX = 56, kGapY = 14, kPad = 10;
    std::map<int, int> rows;
    std::vector<std::pair<int, int>> at(model.lanes.size());
    int width = 0, height = 0;
    for (std::size_t i = 0; i < model.lanes.size(); ++i) {
        const int row = rows[depth[i]]++;
        at[i] = {kPad + depth[i] * (kW + kGapX), kPad + row * (kH + kGapY)};
        width = std::max(width, at[i].first + kW + kPad);
        height = std::max(height, at[i].second + kH + kPad);
    }
    out += "<figure><svg role=\"img\" aria-labelledby=\"lanes-t\" width=\"" +
           std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
           std::to_string(width) + " " + std::to_string(height) +
           "\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"lanes-t\">Execution lanes and the "
           "lanes each depends on</title><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" "
           "refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
           "<path d=\"M0 0L10 5L0 10z\"/></marker></defs>";
    for (std::size_t i = 0; i < model.lanes.size(); ++i) {
        for (const std::string& dep : model.lanes[i].depends_on) {
            const auto it = index.find(dep);
            if (it == index.end() || it->second == i) {
                continue;
            }
            const auto [x1, y1] = at[it->second];
            const auto [x2, y2] = at[i];
            const int sx = x1 + kW, sy = y1 + kH / 2, ex = x2, ey = y2 + kH / 2;
            const int mid = (sx + ex) / 2;
            out += "<path data-edge=\"" + escape(dep + ">" + model.lanes[i].lane_id) +
                   "\" marker-end=\"url(#arrow)\" d=\"M" + std::to_string(sx) + " " +
                   std::to_string(sy) + "C" + std::to_string(mid) + " " + std::to_string(sy) + " " +
                   std::to_string(mid) + " " + std::to_string(ey) + " " + std::to_string(ex) + " " +
                   std::to_string(ey) + "\"/>";
        }
    }
    for (std::size_t i = 0; i < model.lanes.size(); ++i) {
        const DashboardLane& lane = model.lanes[i];
        const auto [x, y] = at[i];
        const bool finished =
            !lane.wp_ids.empty() && lane.done == static_cast<int>(lane.wp_ids.size());
        out += "<g data-lane-id=\"" + escape(lane.lane_id) + "\"><rect" +
               (finished ? std::string(" class=\"finished\"") : std::string()) + " x=\"" +
               std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
               std::to_string(kW) + "\" height=\"" + std::to_string(kH) +
               "\" rx=\"6\"/><text x=\"" + std::to_string(x + 8) + "\" y=\"" +
               std::to_string(y + 18) + "\">" + escape(lane.lane_id) + "</text><text x=\"" +
               std::to_string(x + 8) + "\" y=\"" + std::to_string(y + 36) + "\">" +
               std::to_string(lane.done) + "/" + std::to_string(lane.wp_ids.size()) +
               " approved</text></g>";
    }
    out += "</svg></figure></section>";
}

void render_attention(std::string& out, const DashboardModel& model) {
    out += "<section class=\"attention\" aria-labelledby=\"attention-h\"><h2 id=\"attention-h\">"
           "Needs attention <span class=\"count\">" +
           std::to_string(model.attention.size()) + "</span></h2>";
    if (model.attention.empty()) {
        out += "<p class=\"calm\">Nothing: no blocked work, stale claims, dead agents or "
               "forecast conflicts.</p></section>";
        return;
    }
    out += "<ul>";
    for (const AttentionItem& item : model.attention) {
        out += "<li data-kind=\"" + escape(item.kind) + "\" data-subject=\"" +
               escape(item.subject) + "\">" + escape(item.message) + "</li>";
    }
    out += "</ul></section>";
}

void render_timeline(std::string& out, const DashboardModel& model) {
    out += "<section aria-labelledby=\"timeline-h\"><h2 id=\"timeline-h\">Timeline</h2>";
    if (model.events.empty()) {
        out += "<p class=\"meta\">No events yet.</p></section>";
        return;
    }
    out += "<ol class=\"timeline\">";
    for (const DashboardEvent& e : model.events) {
        out += "<li><time datetime=\"" + escape(e.at) + "\">" + escape(e.at) + "</time>" +
               escape(e.wp_id) + " " + escape(e.from_lane) + " → " + escape(e.to_lane) +
               (e.actor.empty() ? std::string() : " by " + escape(e.actor)) + "</li>";
    }
    out += "</ol></section>";
}

} // namespace

std::string render_dashboard_html(const DashboardModel& model, const DashboardPage& page) {
    const std::int64_t lease_seconds = model.lease_seconds;
    // A file loads nothing and runs nothing; the served page runs its own inline script and
    // talks only to the server it came from.
    const std::string policy = page.live ? "default-src 'none'; style-src 'unsafe-inline'; "
                                           "script-src 'unsafe-inline'; connect-src 'self'"
                                         : "default-src 'none'; style-src 'unsafe-inline'";
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<meta name=\"color-scheme\" content=\"light dark\">"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"" +
                      policy + "\"><title>" + escape(model.mission_slug) +
                      " · kitty dashboard</title><style>";
    out += kStyle;
    out += "</style></head><body><a class=\"skip\" href=\"#board-h\">Skip to the work "
           "packages</a>";
    out += "<main id=\"dashboard\" data-generation=\"" + std::to_string(page.generation) +
           "\" data-mission=\"" + escape(model.mission_slug) + "\">";
    const std::string percent = python_round1(model.progress);
    out += "<header><h1>" + escape(model.mission_slug) + "</h1><p class=\"meta\">";
    if (!model.mission_id.empty()) {
        out += "mission " + escape(model.mission_id) + " · ";
    }
    if (!model.target_branch.empty()) {
        out += "target " + escape(model.target_branch) + " · ";
    }
    out += std::to_string(model.cards.size()) + " work packages · " + percent +
           "% done · read at <time datetime=\"" + escape(model.generated_at) + "\">" +
           escape(model.generated_at) +
           "</time></p><div class=\"progress\" role=\"progressbar\" "
           "aria-label=\"Progress\" aria-valuemin=\"0\" aria-valuemax=\"100\" aria-valuenow=\"" +
           percent + "\"><span style=\"width:" + percent + "%\"></span></div></header>";
    render_attention(out, model);
    render_board(out, model, lease_seconds);
    render_lane_graph(out, model);
    render_timeline(out, model);
    out += "</main>";
    if (page.live) {
        out += "<script>";
        out += kLiveScript;
        out += "</script>";
    }
    out += "</body></html>\n";
    return out;
}

Outcome dashboard_file_command(const DashboardRequest& request) {
    const DashboardModel model = read_dashboard_model(request.target, request.lease_seconds);
    const fs::path out = *request.output;
    write_file_atomic(out, render_dashboard_html(model, {}));
    Json by_lane = Json::object();
    for (const DashboardCard& card : model.cards) {
        by_lane[card.lane] = by_lane.value(card.lane, 0) + 1;
    }
    Json attention = Json::array();
    for (const AttentionItem& item : model.attention) {
        attention.push_back(
            {{"kind", item.kind}, {"subject", item.subject}, {"message", item.message}});
    }
    Json doc = {{"mission_slug", model.mission_slug},
                {"path", fs::absolute(out).string()},
                {"work_packages", model.cards.size()},
                {"by_lane", by_lane},
                {"attention", attention}};
    return Outcome::success(std::move(doc),
                            "Wrote the dashboard of " + model.mission_slug + " to " + out.string() +
                                " (" + std::to_string(model.cards.size()) + " work packages, " +
                                std::to_string(model.attention.size()) + " needing attention)\n");
}

} // namespace kitty
