// The dashboard in a real browser (issue 22 §2, ARCHITECTURE.md decision 14): headless
// Chromium loads the page written with --output and the page the server serves, and the
// tests read the live DOM — each card in the column of its lane as `kitty-status` reports
// it, the counts, no network, narrow and dark screens, the keyboard — then move a WP and see
// its card move without a reload. Screenshots are kept in $KITTY_TEST_ARTIFACTS. Without a
// Chromium the browser tests are skipped, saying so.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <httplib.h>

#include "headless_chromium.hpp"
#include "kitty/dashboard.hpp"
#include "kitty/json.hpp"
#include "loop_project.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::approve;
using kitty::test::HeadlessChromium;
using kitty::test::kThreeWps;
using kitty::test::Project;
using kitty::test::slurp;
using kitty::test::write_fixture;

namespace {

#define REQUIRE_CHROMIUM()                                                                         \
    if (HeadlessChromium::executable().empty()) {                                                  \
        GTEST_SKIP() << "chromium is not installed (apt-get install chromium): the dashboard's "   \
                        "browser tests need it";                                                   \
    }

// WP01 approved, WP02 in progress, WP03 blocked; WP02's title hostile HTML.
fs::path busy_mission(const Project& p) {
    const fs::path dir = p.finalized_mission(kThreeWps);
    const fs::path wp02 = dir / "tasks/WP02-beta.md";
    std::string text = slurp(wp02);
    text.replace(text.find("title: beta"), 11,
                 "title: '<img src=x onerror=\"window.pwned=1\"> beta & co'");
    write_fixture(wp02, text);
    p.commit("a hostile title");
    approve(p, "WP01");
    p.sk_json({"agent", "action", "implement", "WP02", "--agent", "claude"});
    p.sk_json({"status", "move", "001-demo", "WP03", "--to", "blocked"});
    return dir;
}

// The lane of each WP and the count of each lane, as kitty-status reports them.
std::pair<std::map<std::string, std::string>, std::map<std::string, int>>
status_of(const Project& p) {
    const Json report = p.sk_json({"status", "--mission", "001-demo"});
    std::map<std::string, std::string> lanes;
    for (const Json& wp : report["work_packages"]) {
        lanes[wp["id"].get<std::string>()] = wp["lane"].get<std::string>();
    }
    std::map<std::string, int> counts;
    for (const auto& [lane, n] : report["by_lane"].items()) {
        counts[lane] = n.get<int>();
    }
    return {lanes, counts};
}

// Each card's WP id and the data-lane of the column it sits in.
const char* kCardColumns = R"(Object.fromEntries(Array.from(document.querySelectorAll('.card'))
    .map(c => [c.dataset.wp, c.closest('[data-lane]').dataset.lane])))";
// Each column's shown count and the cards it holds.
const char* kColumnCounts = R"(Object.fromEntries(Array.from(document.querySelectorAll(
    'section[data-lane]')).map(s => [s.dataset.lane, [Number(s.querySelector('.count')
    .textContent), s.querySelectorAll('.card').length]])))";

std::map<std::string, std::string> card_columns(HeadlessChromium& browser) {
    return browser.evaluate(kCardColumns).get<std::map<std::string, std::string>>();
}

double brightness(const std::string& rgb) {
    int r = 0, g = 0, b = 0;
    EXPECT_EQ(std::sscanf(rgb.c_str(), "rgb(%d, %d, %d)", &r, &g, &b), 3) << rgb;
    return 0.299 * r + 0.587 * g + 0.114 * b;
}

bool is_png(const fs::path& file) {
    return fs::exists(file) && fs::file_size(file) > 1000 && slurp(file).starts_with("\x89PNG");
}

// The server a test started, stopped even when the test fails half-way.
struct ServerGuard {
    long pid = 0;
    ~ServerGuard() {
        if (pid > 0) {
            ::kill(static_cast<pid_t>(pid), SIGTERM);
        }
    }
};

} // namespace

TEST(DashboardFile, EveryCardSitsInItsLanesColumnAndThePageLoadsNothing) {
    REQUIRE_CHROMIUM();
    Project p;
    busy_mission(p);
    const fs::path page = p.tmp / "out/dashboard.html";
    fs::create_directories(page.parent_path());
    const Json doc = p.sk_json({"dashboard", "--mission", "001-demo", "--output", page.string()});
    EXPECT_EQ(doc["path"], fs::absolute(page).string());
    EXPECT_EQ(doc["work_packages"], 3);
    const auto [lanes, counts] = status_of(p);
    EXPECT_EQ(lanes, (std::map<std::string, std::string>{
                         {"WP01", "approved"}, {"WP02", "in_progress"}, {"WP03", "blocked"}}));

    HeadlessChromium browser(p.tmp / "chromium");
    browser.open("file://" + page.string());
    EXPECT_EQ(card_columns(browser), lanes);
    // One column per lane state, each count the cards it holds and kitty-status's count.
    const Json columns = browser.evaluate(kColumnCounts);
    const std::vector<std::string> states = {"planned",   "claimed",  "in_progress", "for_review",
                                             "in_review", "approved", "done",        "blocked"};
    EXPECT_EQ(columns.size(), states.size());
    for (const std::string& state : states) {
        ASSERT_TRUE(columns.contains(state)) << state;
        const int expected = counts.count(state) ? counts.at(state) : 0;
        EXPECT_EQ(columns[state][0], expected) << state;
        EXPECT_EQ(columns[state][1], expected) << state;
    }
    // The hostile title is text, not markup, and nothing ran.
    EXPECT_EQ(browser.evaluate("document.querySelectorAll('img').length"), 0);
    EXPECT_EQ(browser.evaluate("window.pwned === undefined"), true);
    EXPECT_EQ(browser.evaluate("document.querySelector('[data-wp=WP02] .title').textContent"),
              "<img src=x onerror=\"window.pwned=1\"> beta & co");
    // Blocked work is in the attention panel; the lane graph names every lane.
    EXPECT_EQ(browser.evaluate("document.querySelector('[data-kind=blocked]').dataset.subject"),
              "WP03");
    EXPECT_EQ(browser.evaluate("Array.from(document.querySelectorAll('svg [data-lane-id]'))"
                               ".map(g => g.dataset.laneId).sort().join(',')"),
              "lane-a,lane-b,lane-planning");
    // Self-contained: no script, no stylesheet link, no resource fetched.
    EXPECT_EQ(browser.evaluate("document.scripts.length"), 0);
    EXPECT_EQ(browser.evaluate("document.querySelectorAll('link').length"), 0);
    EXPECT_EQ(browser.evaluate("performance.getEntriesByType('resource').length"), 0);
    browser.screenshot(kitty::test::artifact_dir() / "dashboard-file.png");
    EXPECT_TRUE(is_png(kitty::test::artifact_dir() / "dashboard-file.png"));

    // The keyboard reaches the cards: Tab past the skip link lands on the first card.
    for (int i = 0; i < 2; ++i) {
        for (const char* type : {"keyDown", "keyUp"}) {
            browser.page_call(
                "Input.dispatchKeyEvent",
                {{"type", type}, {"key", "Tab"}, {"code", "Tab"}, {"windowsVirtualKeyCode", 9}});
        }
    }
    EXPECT_EQ(browser.evaluate("document.activeElement.classList.contains('card')"), true);

    // Light and dark; nothing wider than a 360 px phone.
    const double light = brightness(
        browser.evaluate("getComputedStyle(document.body).backgroundColor").get<std::string>());
    browser.page_call(
        "Emulation.setEmulatedMedia",
        {{"features", Json::array({{{"name", "prefers-color-scheme"}, {"value", "dark"}}})}});
    const double dark = brightness(
        browser.evaluate("getComputedStyle(document.body).backgroundColor").get<std::string>());
    EXPECT_GT(light, 200);
    EXPECT_LT(dark, 60);
    // Readable: the text is light on the dark page.
    EXPECT_GT(brightness(browser
                             .evaluate("getComputedStyle(document.querySelector('.card .id'))"
                                       ".color")
                             .get<std::string>()),
              150);
    browser.page_call(
        "Emulation.setDeviceMetricsOverride",
        {{"width", 360}, {"height", 800}, {"deviceScaleFactor", 1}, {"mobile", true}});
    EXPECT_TRUE(browser.wait_until("window.innerWidth === 360", std::chrono::seconds(5)));
    EXPECT_LE(browser.evaluate("document.documentElement.scrollWidth").get<int>(), 360);
    browser.screenshot(kitty::test::artifact_dir() / "dashboard-360-dark.png");
    EXPECT_TRUE(is_png(kitty::test::artifact_dir() / "dashboard-360-dark.png"));
}

// The renderer on an in-memory model: every string from the mission is text in the DOM.
TEST(DashboardFile, TextFromTheMissionNeverBecomesMarkup) {
    REQUIRE_CHROMIUM();
    kitty::test::TempDir tmp;
    kitty::DashboardModel model;
    model.mission_slug = "001-</title><script>window.pwned=1</script>";
    kitty::DashboardCard card;
    card.wp_id = "WP01\"><b>";
    card.title = "<svg onload=window.pwned=1>";
    card.lane = "planned";
    card.holder = "claude";
    card.agent = "claude";
    card.last_rejection = "</dd><script>window.pwned=1</script>";
    card.review_cycles = 1;
    model.cards.push_back(card);
    model.lanes.push_back({"lane-<a>", {"WP01"}, {"lane-</text>"}, 0});
    model.events.push_back({"2026-01-01T00:00:00Z", "WP01", "planned", "<i>x</i>", "<u>me</u>"});
    model.lease_seconds = 60;
    model.attention = kitty::attention_items(model, 60);
    const fs::path page = tmp / "page.html";
    write_fixture(page, kitty::render_dashboard_html(model, {}));
    HeadlessChromium browser(tmp / "chromium");
    browser.open("file://" + page.string());
    EXPECT_EQ(browser.evaluate("window.pwned === undefined"), true);
    EXPECT_EQ(browser.evaluate("document.querySelectorAll('script, b, i, u, svg svg').length"), 0);
    EXPECT_EQ(browser.evaluate("document.title"), model.mission_slug + " · kitty dashboard");
    EXPECT_EQ(browser.evaluate("document.querySelector('.card').dataset.wp"), card.wp_id);
    EXPECT_EQ(browser.evaluate("document.querySelector('.card .title').textContent"), card.title);
}

TEST(DashboardServer, ThePageFollowsAMoveWithoutAReloadAndKillStopsTheServer) {
    REQUIRE_CHROMIUM();
    Project p;
    p.finalized_mission(kThreeWps);
    const Json started = p.sk_json({"dashboard", "--mission", "001-demo"});
    ServerGuard guard{started["pid"].get<long>()};
    ASSERT_EQ(started["state"], "started") << started;
    const std::string url = started["url"];
    const int port = started["port"];
    EXPECT_TRUE(url.starts_with("http://127.0.0.1:" + std::to_string(port) + "/?token="));
    // 3.1.1's record: URL, port, token, pid.
    const std::string record = slurp(p.root / ".kittify/.dashboard");
    const std::string token = url.substr(url.find("token=") + 6);
    EXPECT_TRUE(record.starts_with("http://127.0.0.1:" + std::to_string(port) + "\n" +
                                   std::to_string(port) + "\n" + token + "\n" +
                                   std::to_string(guard.pid) + "\n"))
        << record;

    // A second start reports the running server.
    const Json again = p.sk_json({"dashboard", "--mission", "001-demo"});
    EXPECT_EQ(again["state"], "running");
    EXPECT_EQ(again["pid"], guard.pid);

    // Only a request with the token, addressed to 127.0.0.1, gets the page.
    httplib::Client client("127.0.0.1", port);
    EXPECT_EQ(client.Get("/?token=" + token)->status, 200);
    EXPECT_EQ(client.Get("/")->status, 403);
    EXPECT_EQ(
        client.Get("/?token=" + token, {{"Host", "evil.example:" + std::to_string(port)}})->status,
        403);

    HeadlessChromium browser(p.tmp / "chromium");
    browser.open(url);
    EXPECT_EQ(card_columns(browser),
              (std::map<std::string, std::string>{
                  {"WP01", "planned"}, {"WP02", "planned"}, {"WP03", "planned"}}));
    browser.evaluate("window.samePage = 'yes'");
    const std::string generation =
        browser.evaluate("document.getElementById('dashboard').dataset.generation");

    p.sk_json({"status", "move", "001-demo", "WP02", "--to", "claimed"});
    EXPECT_TRUE(browser.wait_until(
        "document.querySelector('[data-wp=WP02]').closest('[data-lane]').dataset.lane === "
        "'claimed'",
        std::chrono::seconds(15)));
    EXPECT_EQ(card_columns(browser), status_of(p).first);
    EXPECT_EQ(browser.evaluate("window.samePage"), "yes"); // no reload
    EXPECT_NE(browser.evaluate("document.getElementById('dashboard').dataset.generation"),
              generation);
    browser.screenshot(kitty::test::artifact_dir() / "dashboard-served.png");
    EXPECT_TRUE(is_png(kitty::test::artifact_dir() / "dashboard-served.png"));

    const Json stopped = p.sk_json({"dashboard", "--kill"});
    EXPECT_EQ(stopped["state"], "stopped");
    EXPECT_EQ(stopped["pid"], guard.pid);
    EXPECT_FALSE(fs::exists(p.root / ".kittify/.dashboard"));
    httplib::Client after("127.0.0.1", port);
    after.set_connection_timeout(std::chrono::seconds(2));
    EXPECT_FALSE(after.Get("/?token=" + token)); // nobody listens any more
    EXPECT_EQ(p.sk_json({"dashboard", "--kill"})["state"], "not_running");
}

// Without a browser: the errors and the record of a dead server.
TEST(DashboardServer, ADeadServersRecordIsNotTrustedAndBadInputIsAClearError) {
    Project p;
    p.finalized_mission(kThreeWps);
    // A record whose pid is this test (alive, but not a dashboard) is never signalled.
    write_fixture(p.root / ".kittify/.dashboard",
                  "http://127.0.0.1:1\n1\nabc\n" + std::to_string(::getpid()) + "\n001-demo\n");
    EXPECT_EQ(p.sk_json({"dashboard", "--kill"})["state"], "not_running");
    EXPECT_FALSE(fs::exists(p.root / ".kittify/.dashboard"));
    EXPECT_EQ(p.sk_json({"dashboard", "--mission", "nope", "--output", "x.html"}, 3)["code"],
              "MISSION_NOT_FOUND");
    EXPECT_FALSE(fs::exists(p.root / "x.html"));
    const auto r = p.sk({"dashboard", "--port", "70000"});
    EXPECT_EQ(r.exit_code, 2) << r.out;
}
