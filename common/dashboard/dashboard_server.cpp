// The dashboard's server: one background process per project, serving one mission's page on
// 127.0.0.1 and rebuilding it when that mission's files or branches change.
#include "kitty/dashboard_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/git.hpp"
#include "kitty/mission.hpp"
#include "kitty/project.hpp"
#include "kitty/status.hpp"
#include "kitty/text.hpp"
#include "kitty/ulid.hpp"

extern char** environ;

namespace kitty {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kServerName = "kitty-dashboard";

struct ServerRecord {
    std::string url; // without the token
    int port = 0;
    std::string token;
    long pid = 0;
    std::string mission; // a fifth line 3.1.1 does not read

    std::string page_url() const { return url + "/?token=" + token; }
};

fs::path record_path(const fs::path& root) {
    return root / ".kittify" / ".dashboard";
}

std::optional<ServerRecord> read_record(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        return std::nullopt;
    }
    std::vector<std::string> lines;
    for_each_stripped_line(read_file_bytes(file), [&](int, std::string_view line) {
        if (!line.empty()) {
            lines.emplace_back(line);
        }
    });
    ServerRecord r;
    try {
        r.url = lines.size() > 0 ? lines[0] : "";
        r.port = lines.size() > 1 ? std::stoi(lines[1]) : 0;
        r.token = lines.size() > 2 ? lines[2] : "";
        r.pid = lines.size() > 3 ? std::stol(lines[3]) : 0;
        r.mission = lines.size() > 4 ? lines[4] : "";
    } catch (const std::exception&) {
        return std::nullopt; // 3.1.1 ignores a record it cannot read, and so do we
    }
    return r;
}

// Whether `pid` is a kitty dashboard server still running: never signal a process that
// merely reused a dead server's pid.
bool is_dashboard_server(long pid) {
    if (pid <= 1 || ::kill(static_cast<pid_t>(pid), 0) != 0) {
        return false;
    }
    std::error_code ec;
    const fs::path cmdline = "/proc/" + std::to_string(pid) + "/cmdline";
    if (!fs::exists(cmdline, ec)) {
        return false;
    }
    const std::string text = read_file_bytes(cmdline);
    const std::string argv0 = text.substr(0, text.find('\0'));
    return fs::path(argv0).filename().string() == kServerName;
}

Json record_json(const ServerRecord& r, const std::string& state) {
    return {{"state", state},
            {"url", r.page_url()},
            {"port", r.port},
            {"pid", r.pid},
            {"mission_slug", r.mission}};
}

// What the server shares between the HTTP threads and the watcher.
struct Page {
    std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t generation = 0;
    std::string html;
    std::string key; // the page without its generation and read time: what a change changes
    bool stopping = false;
};

// Rebuilds the page; a new generation only when what it shows changed.
void rebuild(Page& page, const LoopTarget& target, std::int64_t lease) {
    DashboardModel model = read_dashboard_model(target, lease);
    const std::string generated_at = model.generated_at;
    model.generated_at.clear();
    std::string key = render_dashboard_html(model, {true, 0});
    std::lock_guard lock(page.mutex);
    if (key == page.key) {
        return;
    }
    model.generated_at = generated_at;
    page.key = std::move(key);
    page.html = render_dashboard_html(model, {true, page.generation + 1});
    ++page.generation;
    page.changed.notify_all();
}

// The directories whose changes change the page: the mission directory, its tasks/ and the
// review-cycle folders in it, and the project's branch refs.
class MissionWatch {
public:
    MissionWatch(const Mission& mission) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
        if (fd_ < 0) {
            throw Error(Exit::internal, "NO_INOTIFY", "inotify_init1 failed",
                        "raise fs.inotify.max_user_instances");
        }
        add(mission.dir(), false);
        add(mission.tasks_dir(), true);
        if (const Repository* repo = mission.repository()) {
            add(repo->common_dir() / "refs" / "heads", true);
        }
    }
    MissionWatch(const MissionWatch&) = delete;
    MissionWatch& operator=(const MissionWatch&) = delete;
    ~MissionWatch() { ::close(fd_); }

    int fd() const { return fd_; }

    // Reads what is pending; directories created under a recursive watch are watched too.
    // Returns whether anything happened.
    bool drain() {
        alignas(inotify_event) char buffer[16384];
        bool any = false;
        for (;;) {
            const ssize_t n = ::read(fd_, buffer, sizeof buffer);
            if (n <= 0) {
                return any;
            }
            for (ssize_t at = 0; at < n;) {
                const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
                any = true;
                const auto dir = dirs_.find(event->wd);
                if ((event->mask & IN_ISDIR) && (event->mask & (IN_CREATE | IN_MOVED_TO)) &&
                    dir != dirs_.end() && dir->second.second && event->len > 0) {
                    add(dir->second.first / event->name, true);
                }
                at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
            }
        }
    }

private:
    void add(const fs::path& dir, bool recursive) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            return;
        }
        const int wd = ::inotify_add_watch(fd_, dir.c_str(),
                                           IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO |
                                               IN_MOVED_FROM | IN_CREATE | IN_DELETE);
        if (wd >= 0) {
            dirs_[wd] = {dir, recursive};
        }
        if (recursive) {
            for (const auto& entry : fs::directory_iterator(dir, ec)) {
                if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
                    add(entry.path(), true);
                }
            }
        }
    }

    int fd_;
    std::map<int, std::pair<fs::path, bool>> dirs_;
};

// Waits for changes (settling for 80 ms, so one command's several writes make one rebuild)
// and rebuilds; once a minute anyway, for the times in state and the liveness of holders. A
// busy mission is rebuilt at most once a second, and never for more than a fifth of the
// time (a rebuild of 100 WPs with the forecast takes about 0.15 s).
void watch_loop(Page& page, MissionWatch& watch, int stop_fd, const LoopTarget& target,
                std::int64_t lease) {
    using clock = std::chrono::steady_clock;
    using std::chrono::milliseconds;
    auto last_build = clock::now();
    milliseconds gap(1000);
    // Waits up to `wait` for a change or the stop; false on the stop.
    const auto wait_for = [&](milliseconds wait, bool& changed) {
        pollfd fds[2] = {{watch.fd(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>(std::max<long long>(0, wait.count()))) < 0 &&
            errno != EINTR) {
            return false;
        }
        if (fds[1].revents) {
            return false;
        }
        changed = watch.drain() || changed;
        return true;
    };
    for (;;) {
        bool changed = false;
        if (!wait_for(milliseconds(60'000), changed)) {
            return;
        }
        for (bool more = changed; more;) {
            more = false;
            if (!wait_for(milliseconds(80), more)) {
                return;
            }
        }
        for (auto left = last_build + gap - clock::now(); changed && left.count() > 0;
             left = last_build + gap - clock::now()) {
            if (!wait_for(std::chrono::duration_cast<milliseconds>(left), changed)) {
                return;
            }
        }
        if (changed || clock::now() - last_build >= std::chrono::seconds(60)) {
            const auto start = clock::now();
            try {
                rebuild(page, target, lease);
            } catch (const std::exception& e) {
                // A file caught half-way through a change: the next change rebuilds it.
                std::cerr << "kitty-dashboard: " << e.what() << "\n";
            }
            last_build = clock::now();
            gap = std::max(milliseconds(1000),
                           4 * std::chrono::duration_cast<milliseconds>(last_build - start));
        }
    }
}

bool allowed_host(const httplib::Request& request, int port) {
    const std::string host = request.get_header_value("Host");
    const std::string suffix = ":" + std::to_string(port);
    return host == "127.0.0.1" + suffix || host == "localhost" + suffix;
}

void secure_headers(httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("X-Frame-Options", "DENY");
    response.set_header("Referrer-Policy", "no-referrer");
}

// The server process: never returns. Its signals are taken by sigwait, so the HTTP and
// watcher threads never run a handler.
[[noreturn]] void serve(httplib::Server& server, const ServerRecord& record, const Mission& mission,
                        std::int64_t lease) {
    ::setsid();
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    const fs::path log = mission.project_root() / ".kittify" / "runtime" / "dashboard.log";
    std::error_code ec;
    fs::create_directories(log.parent_path(), ec);
    try {
        mission.writable(log);
    } catch (const Error&) {
        ::_exit(3);
    }
    const int err =
        ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    ::dup2(err >= 0 ? err : null, STDERR_FILENO);
    sigset_t signals;
    sigemptyset(&signals);
    for (const int s : {SIGTERM, SIGINT, SIGHUP}) {
        sigaddset(&signals, s);
    }
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    int code = 0;
    try {
        const LoopTarget target{mission.dir().string(), mission.dir()};
        Page page;
        rebuild(page, target, lease);
        MissionWatch watch(mission);
        int stop[2];
        if (::pipe2(stop, O_CLOEXEC) != 0) {
            throw Error(Exit::internal, "NO_PIPE", "pipe2 failed");
        }
        const int port = record.port;
        const std::string token = record.token;
        const auto guard = [port, token](const httplib::Request& req, httplib::Response& res) {
            secure_headers(res);
            if (!allowed_host(req, port) || req.get_param_value("token") != token) {
                res.status = 403;
                res.set_content("forbidden: open the URL `spec-kitty dashboard` printed\n",
                                "text/plain");
                return false;
            }
            return true;
        };
        server.Get("/", [&](const httplib::Request& req, httplib::Response& res) {
            if (guard(req, res)) {
                std::lock_guard lock(page.mutex);
                res.set_content(page.html, "text/html; charset=utf-8");
            }
        });
        // Long poll: answers the generation once it differs from `since`, or after 25 s.
        server.Get("/wait", [&](const httplib::Request& req, httplib::Response& res) {
            if (!guard(req, res)) {
                return;
            }
            const std::string since = req.get_param_value("since");
            std::unique_lock lock(page.mutex);
            page.changed.wait_for(lock, std::chrono::seconds(25), [&] {
                return page.stopping || std::to_string(page.generation) != since;
            });
            res.set_content(std::to_string(page.generation), "text/plain");
        });
        std::thread watcher([&] { watch_loop(page, watch, stop[0], target, lease); });
        std::thread http([&] { server.listen_after_bind(); });
        int signal = 0;
        ::sigwait(&signals, &signal);
        {
            std::lock_guard lock(page.mutex);
            page.stopping = true;
            page.changed.notify_all();
        }
        server.stop();
        [[maybe_unused]] const ssize_t w = ::write(stop[1], "x", 1);
        http.join();
        watcher.join();
    } catch (const std::exception& e) {
        std::cerr << "kitty-dashboard: " << e.what() << "\n";
        code = 70;
    }
    const fs::path file = record_path(mission.project_root());
    if (const auto now = read_record(file); now && now->pid == ::getpid()) {
        fs::remove(file, ec);
    }
    ::_exit(code);
}

Outcome stop_server(const fs::path& root) {
    const fs::path file = writable_in_project(root, record_path(root));
    const auto record = read_record(file);
    if (!record || !is_dashboard_server(record->pid)) {
        std::error_code ec;
        if (record) {
            fs::remove(file, ec); // a dead server's record
        }
        return Outcome::success({{"state", "not_running"}},
                                "No dashboard is running for this project.\n");
    }
    ::kill(static_cast<pid_t>(record->pid), SIGTERM);
    for (int i = 0; i < 100 && is_dashboard_server(record->pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (is_dashboard_server(record->pid)) {
        throw Error(Exit::temporary, "DASHBOARD_STILL_RUNNING",
                    "the dashboard server (pid " + std::to_string(record->pid) +
                        ") did not stop within 5 seconds",
                    "run spec-kitty dashboard --kill again, or kill " +
                        std::to_string(record->pid));
    }
    std::error_code ec;
    fs::remove(file, ec);
    return Outcome::success(record_json(*record, "stopped"),
                            "Stopped the dashboard (pid " + std::to_string(record->pid) + ").\n");
}

// Runs xdg-open on the page, when there is one. The token must not show in the process
// list, so xdg-open gets a private file (0600) that sends the browser on to the URL.
std::optional<Finding> open_browser(const Mission& mission, const std::string& url) {
    const fs::path launcher =
        mission.writable(mission.project_root() / ".kittify" / "runtime" / "dashboard-open.html");
    std::error_code ec;
    fs::create_directories(launcher.parent_path(), ec);
    write_file_atomic(launcher,
                      "<!DOCTYPE html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
                      "content=\"0; url=" +
                          url + "\"><title>kitty dashboard</title>\n",
                      0600);
    const std::string target = launcher.string();
    const char* argv[] = {"xdg-open", target.c_str(), nullptr};
    pid_t pid = 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    const int rc = ::posix_spawnp(&pid, "xdg-open", &actions, nullptr,
                                  const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        return Finding{"warning", "NO_BROWSER_OPENER",
                       "xdg-open was not found, so no browser was opened; open the URL yourself",
                       "", 0};
    }
    return std::nullopt;
}

Outcome start_server(const DashboardRequest& request, const Mission& mission) {
    const fs::path file = record_path(mission.project_root());
    if (const auto running = read_record(file); running && is_dashboard_server(running->pid)) {
        if (running->mission != mission.slug()) {
            throw Error(Exit::conflict, "DASHBOARD_RUNNING",
                        "a dashboard for " + running->mission + " is already running (pid " +
                            std::to_string(running->pid) + ")",
                        "stop it with spec-kitty dashboard --kill, then start this one");
        }
        return Outcome::success(record_json(*running, "running"),
                                "The dashboard of " + mission.slug() +
                                    " is already running: " + running->page_url() + "\n");
    }
    // The page is built once here, so a broken mission is an error now, not in a log.
    read_dashboard_model({mission.dir().string(), mission.dir()}, request.lease_seconds, false);
    const fs::path record_file = mission.writable(file);
    httplib::Server server;
    int port = request.port;
    if (port == 0) {
        port = server.bind_to_any_port("127.0.0.1");
    } else if (!server.bind_to_port("127.0.0.1", port)) {
        port = -1;
    }
    if (port < 0) {
        throw Error(Exit::conflict, "PORT_IN_USE",
                    "cannot listen on 127.0.0.1:" + std::to_string(request.port),
                    "choose another --port, or leave it out for a free one");
    }
    ServerRecord record{"http://127.0.0.1:" + std::to_string(port), port,
                        mint_ulid().randomness_hex(), 0, mission.slug()};
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw Error(Exit::temporary, "FORK_FAILED", "could not start the dashboard server",
                    "try again");
    }
    if (pid == 0) {
        record.pid = ::getpid();
        serve(server, record, mission, request.lease_seconds);
    }
    record.pid = pid;
    try {
        write_file_atomic(record_file,
                          record.url + "\n" + std::to_string(record.port) + "\n" + record.token +
                              "\n" + std::to_string(record.pid) + "\n" + record.mission + "\n",
                          0600);
    } catch (const Error&) {
        ::kill(pid, SIGTERM); // a server nobody could find or stop
        throw;
    }
    Outcome out = Outcome::success(record_json(record, "started"),
                                   "Dashboard of " + mission.slug() + ": " + record.page_url() +
                                       "\n(pid " + std::to_string(pid) +
                                       "; stop it with: spec-kitty dashboard --kill)\n");
    if (request.open) {
        if (auto finding = open_browser(mission, record.page_url())) {
            out.findings.push_back(*finding);
        }
    }
    return out;
}

} // namespace

Outcome dashboard_command(const DashboardRequest& request) {
    if (request.output) {
        return dashboard_file_command(request);
    }
    if (request.kill) {
        // The one server of the project, whichever mission it shows.
        return stop_server(find_project_root(request.target.start_dir));
    }
    return start_server(request,
                        open_target_mission(request.target.mission, request.target.start_dir));
}

} // namespace kitty
