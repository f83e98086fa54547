// kitty-auth-refresh against a real server on loopback (cpp-httplib, HTTP and HTTPS with a
// certificate made by openssl at test time), as real processes sharing a real HOME: the
// store format, the refresh transaction, and the race that must never log anyone out.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include <toml++/toml.h>

#include <gtest/gtest.h>

#include "fake_saas.hpp"
#include "kitty/json.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::FakeSaas;
using kitty::test::ProcessResult;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

constexpr const char* kPast = "2020-01-01T00:00:00+00:00";
constexpr const char* kFuture = "2099-01-01T00:00:00+00:00";

struct Home {
    TempDir tmp;
    fs::path home = tmp.path();
    fs::path dir = home / ".spec-kitty";
    fs::path credentials = dir / "credentials";

    explicit Home(const std::string& server) {
        write_fixture(dir / "config.toml", "[sync]\nserver_url = \"" + server + "\"\n");
    }

    void write_session(const std::string& access, const std::string& refresh,
                       const std::string& access_expiry, const std::string& server,
                       const std::string& extra = "") const {
        write_fixture(credentials, "[tokens]\naccess = \"" + access + "\"\nrefresh = \"" + refresh +
                                       "\"\naccess_expires_at = \"" + access_expiry +
                                       "\"\nrefresh_expires_at = \"" + kFuture +
                                       "\"\n\n[user]\nusername = \"ann\"\n\n[server]\nurl = \"" +
                                       server + "\"\n" + extra);
        ::chmod(credentials.c_str(), 0600);
    }

    ProcessResult run(std::vector<std::string> args, const std::string& input = "") const {
        args.insert(args.begin(), kitty::test::tool_path("kitty-auth-refresh"));
        return run_process(args,
                           {input, home, {{"HOME", home.string()}, {"SPEC_KITTY_CA_BUNDLE", ""}}});
    }

    toml::table stored() const { return toml::parse_file(credentials.string()); }
    std::string stored_refresh() const {
        return stored().at_path("tokens.refresh").value_or(std::string());
    }
};

// A python3 process holding the credentials lock with fcntl.flock, as spec-kitty's
// filelock does, until it is killed.
struct PythonLockHolder {
    pid_t pid = -1;
    explicit PythonLockHolder(const fs::path& lock) {
        int ready[2];
        EXPECT_EQ(::pipe(ready), 0);
        pid = ::fork();
        if (pid == 0) {
            ::dup2(ready[1], 1);
            const std::string script = "import fcntl, sys, time\nf = open(" +
                                       Json(lock.string()).dump() +
                                       ", 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', "
                                       "flush=True)\ntime.sleep(60)\n";
            ::execlp("python3", "python3", "-c", script.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(ready[1]);
        char buf[16] = {};
        EXPECT_GT(::read(ready[0], buf, sizeof buf), 0) << "python3 did not take the lock";
        ::close(ready[0]);
    }
    void release() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            pid = -1;
        }
    }
    ~PythonLockHolder() { release(); }
};

} // namespace

TEST(AuthCli, LoginWritesTheStoreIn311Layout) {
    FakeSaas saas;
    Home h(saas.url());
    fs::remove_all(h.dir / "credentials");
    const auto r = h.run({"login", "--username", "ann@example.com"}, "secret\n");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(saas.login_requests, 1);
    EXPECT_EQ(r.out.find("a1"), std::string::npos) << "no token in the output";
    const std::string text = slurp(h.credentials);
    EXPECT_EQ(text.substr(0, 44), "[tokens]\naccess = \"a1\"\nrefresh = \"r1\"\naccess");
    EXPECT_NE(
        text.find("\n\n[user]\nusername = \"ann@example.com\"\nteam_slug = \"team\"\n\n[server]\n"
                  "url = \"" +
                  saas.url() + "\"\n"),
        std::string::npos)
        << text;
    struct stat st {};
    ASSERT_EQ(::stat(h.credentials.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    EXPECT_EQ(h.run({"login", "-u", "ann"}, "wrong\n").exit_code, 5);
}

TEST(AuthCli, RefreshOnlyWhenDueAndKeepsOtherTables) {
    FakeSaas saas;
    Home h(saas.url());
    saas.set_current_refresh("r0");
    h.write_session("a0", "r0", kFuture, saas.url(),
                    "\n[tracker.providers.github]\ntoken = \"keep-me\"\n");
    auto r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["outcome"], "not_needed");
    EXPECT_EQ(saas.refresh_requests, 0);

    h.write_session("a0", "r0", kPast, saas.url(),
                    "\n[tracker.providers.github]\ntoken = \"keep-me\"\n");
    r = h.run({"refresh"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["outcome"], "refreshed");
    EXPECT_EQ(saas.refresh_requests, 1);
    EXPECT_EQ(r.out.find("\"a1\""), std::string::npos) << "never a token in refresh output";
    const toml::table t = h.stored();
    EXPECT_EQ(t.at_path("tokens.access").value_or(std::string()), "a1");
    EXPECT_EQ(t.at_path("tokens.refresh").value_or(std::string()), "r1");
    EXPECT_EQ(t.at_path("tracker.providers.github.token").value_or(std::string()), "keep-me");
    EXPECT_EQ(t.at_path("user.username").value_or(std::string()), "ann");
    EXPECT_EQ(doc["access_expires_at"],
              t.at_path("tokens.access_expires_at").value_or(std::string()));

    r = h.run({"token", "--format", "text"});
    EXPECT_EQ(r.out, "a1\n");
    r = h.run({"refresh", "--force"});
    EXPECT_EQ(Json::parse(r.out)["outcome"], "refreshed");
    EXPECT_EQ(h.stored_refresh(), "r2");
}

// A 401 for a token another writer replaced meanwhile is stale: success, file untouched.
TEST(AuthCli, Stale401KeepsTheSession) {
    FakeSaas saas;
    Home h(saas.url());
    saas.set_current_refresh("r-current");
    h.write_session("a0", "r-old", kPast, saas.url());
    saas.delay_ms = 400;
    std::thread writer([&] {
        // Once the request is in flight (the server holds it for 400 ms).
        while (saas.refresh_requests == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        // A writer that ignores the lock (as 3.1.1's tracker store does).
        h.write_session("a-other", "r-current", kFuture, saas.url());
    });
    const auto r = h.run({"refresh"});
    writer.join();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["outcome"], "reused_from_disk");
    EXPECT_EQ(h.stored_refresh(), "r-current");
}

TEST(AuthCli, Authoritative401ClearsTheSession) {
    FakeSaas saas;
    Home h(saas.url());
    saas.set_current_refresh("r-server");
    h.write_session("a0", "r-revoked", kPast, saas.url(), "\n[other]\nkeep = 1\n");
    const auto r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 5);
    EXPECT_EQ(Json::parse(r.out)["code"], "SESSION_EXPIRED");
    const toml::table t = h.stored();
    EXPECT_FALSE(t.contains("tokens"));
    EXPECT_EQ(t.at_path("other.keep").value_or(0), 1);
    EXPECT_EQ(h.run({"status"}).out, "{\"logged_in\": false}\n");
}

TEST(AuthCli, TransientFailuresNeverTouchTheStore) {
    FakeSaas saas;
    Home h(saas.url());
    saas.set_current_refresh("r0");
    h.write_session("a0", "r0", kPast, saas.url());
    const std::string before = slurp(h.credentials);

    saas.forced_status = 503;
    auto r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 75);
    EXPECT_EQ(slurp(h.credentials), before);
    saas.forced_status = 0;

    saas.malformed = true;
    r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 75);
    EXPECT_EQ(slurp(h.credentials), before);
    saas.malformed = false;

    // One total timeout for the exchange: a server that answers late is a failure (how
    // soon is measured in benchmarks/bench_auth.cpp).
    saas.delay_ms = 1500;
    r = h.run({"refresh", "--timeout", "0.5"});
    EXPECT_EQ(r.exit_code, 75);
    EXPECT_EQ(Json::parse(r.out)["code"], "NETWORK_ERROR");
    EXPECT_EQ(slurp(h.credentials), before);
    saas.delay_ms = 0;

    // D10: lifetimes past what a datetime holds overflowed into expiries nobody could read
    // (access_expires_at = "-19742-12-19T…"), silently ending the session.
    saas.absurd_lifetimes = true;
    r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 75) << r.err;
    EXPECT_EQ(Json::parse(r.out)["code"], "INVALID_RESPONSE");
    EXPECT_EQ(slurp(h.credentials), before);
    saas.absurd_lifetimes = false;

    {
        PythonLockHolder holder(h.dir / "credentials.lock");
        r = h.run({"refresh", "--lock-timeout", "0.3"});
        EXPECT_EQ(r.exit_code, 75);
        EXPECT_EQ(Json::parse(r.out)["code"], "LOCK_TIMEOUT");
    }
    EXPECT_EQ(slurp(h.credentials), before);
}

TEST(AuthCli, ConnectionRefusedIsTemporary) {
    std::string url;
    {
        FakeSaas gone;
        url = gone.url();
    }
    Home h(url);
    h.write_session("a0", "r0", kPast, url);
    const std::string before = slurp(h.credentials);
    const auto r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 75);
    EXPECT_EQ(slurp(h.credentials), before);
}

// The refresh token only ever goes to the server the session was made with.
TEST(AuthCli, OtherConfiguredServerIsRefused) {
    FakeSaas saas;
    FakeSaas other;
    Home h(other.url());
    saas.set_current_refresh("r0");
    h.write_session("a0", "r0", kPast, saas.url());
    const auto r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 5);
    EXPECT_EQ(Json::parse(r.out)["code"], "SERVER_MISMATCH");
    EXPECT_EQ(saas.refresh_requests, 0);
    EXPECT_EQ(other.refresh_requests, 0);

    Home insecure("http://example.com");
    insecure.write_session("a0", "r0", kPast, "http://example.com");
    EXPECT_EQ(insecure.run({"refresh"}).exit_code, 5);
}

// D09: the loopback check was a string prefix, so in http://127.0.0.1:PORT@elsewhere the
// text before '@' passed it while libcurl connected to `elsewhere` over plain HTTP. The URL
// is parsed with libcurl's URL API; a user name or password is refused before any
// connection, loopback or not (the fake server sees no request, and no network is needed).
TEST(AuthCli, UserinfoInTheServerUrlIsRefusedBeforeAnyConnection) {
    FakeSaas saas;
    const std::string port = saas.url().substr(saas.url().rfind(':') + 1);
    saas.set_current_refresh("r0");
    for (const std::string& url :
         {"http://127.0.0.1:" + port + "@remote.example.invalid:" + port,
          "http://user@127.0.0.1:" + port, "http://user:pw@127.0.0.1:" + port,
          "https://127.0.0.1:" + port + "@remote.example.invalid",
          std::string("http://127.0.0.1.example.invalid")}) {
        Home h(url);
        h.write_session("a0", "r0", kPast, url);
        const std::string before = slurp(h.credentials);
        const auto r = h.run({"refresh"});
        EXPECT_EQ(r.exit_code, 5) << url << ": " << r.err;
        EXPECT_EQ(Json::parse(r.out)["code"], "INSECURE_SERVER") << url;
        EXPECT_EQ(slurp(h.credentials), before);
        EXPECT_EQ(h.run({"login", "--username", "ann"}, "secret\n").exit_code, 5) << url;
    }
    EXPECT_EQ(saas.refresh_requests, 0);
    EXPECT_EQ(saas.login_requests, 0);
}

// D10: CLI11's range check compares, and nan compares false with everything.
TEST(AuthCli, NanTimeoutsAreUsageErrors) {
    FakeSaas saas;
    Home h(saas.url());
    h.write_session("a0", "r0", kPast, saas.url());
    for (const char* option : {"--timeout", "--lock-timeout"}) {
        for (const char* value : {"nan", "inf", "-1"}) {
            const auto r = h.run({option, value, "refresh"});
            EXPECT_EQ(r.exit_code, 2) << option << " " << value << ": " << r.err;
        }
    }
    EXPECT_EQ(saas.refresh_requests, 0);
}

TEST(AuthCli, HttpsVerifiesTheCertificate) {
    TempDir certs;
    const auto cert = kitty::test::make_test_certificate(certs.path());
    FakeSaas saas(&cert);
    Home h(saas.url());
    saas.set_current_refresh("r0");
    h.write_session("a0", "r0", kPast, saas.url());
    auto r = h.run({"refresh"});
    EXPECT_EQ(r.exit_code, 75) << "an unknown CA must fail verification";
    EXPECT_EQ(saas.rotations, 0);
    r = h.run({"--cacert", cert.cert.string(), "refresh"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(h.stored_refresh(), "r1");
}

TEST(AuthCli, SymlinkedStoreIsRefusedAndLogoutClears) {
    FakeSaas saas;
    Home h(saas.url());
    h.write_session("a0", "r0", kFuture, saas.url());
    fs::rename(h.credentials, h.home / "real");
    fs::create_symlink(h.home / "real", h.credentials);
    EXPECT_EQ(h.run({"status"}).exit_code, 3);
    fs::remove(h.credentials);
    fs::rename(h.home / "real", h.credentials);
    const Json status = Json::parse(h.run({"status"}).out);
    EXPECT_EQ(status["logged_in"], true);
    EXPECT_EQ(status["refresh_due"], false);
    EXPECT_EQ(Json::parse(h.run({"logout"}).out)["logged_out"], true);
    EXPECT_FALSE(fs::exists(h.credentials));
    EXPECT_TRUE(fs::exists(h.dir / "credentials.lock"));
}

// SIGKILL at any moment of a refresh leaves the old file or the new one, never a torn one.
TEST(AuthCli, KilledRefreshNeverTearsTheFile) {
    FakeSaas saas;
    Home h(saas.url());
    saas.set_current_refresh("r0");
    h.write_session("a0", "r0", kPast, saas.url());
    std::mt19937 rng(7);
    for (int round = 0; round < 20; ++round) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::setenv("HOME", h.home.c_str(), 1);
            ::freopen("/dev/null", "w", stdout);
            const std::string tool = kitty::test::tool_path("kitty-auth-refresh");
            ::execl(tool.c_str(), tool.c_str(), "refresh", "--force", nullptr);
            ::_exit(127);
        }
        ::usleep(rng() % 15000);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        // A request the dead process had already sent may still rotate on the server: wait
        // until the server has been quiet for 50 ms before re-arming it below.
        for (int seen = -1; seen != saas.refresh_requests;) {
            seen = saas.refresh_requests;
            ::usleep(50000);
        }
        const toml::table t = h.stored(); // throws if torn
        const std::string refresh = t.at_path("tokens.refresh").value_or(std::string());
        EXPECT_FALSE(refresh.empty()) << "round " << round;
        // Keep the session usable: the server accepts whatever the file now holds.
        saas.set_current_refresh(refresh);
    }
}

// The release-gating case: 8 processes refresh at once, 50 rounds. Nobody is logged out,
// the file is always valid TOML, and each expiry costs exactly one rotation, also while a
// python3 process holds the lock for a while.
TEST(AuthCli, ConcurrentRefreshesRotateOncePerExpiry) {
    FakeSaas saas;
    Home h(saas.url());
    saas.set_current_refresh("r0");
    h.write_session("a0", "r0", kPast, saas.url());
    constexpr int kProcesses = 8;
    constexpr int kRounds = 50;
    for (int round = 0; round < kRounds; ++round) {
        // Expire the access token, keeping the current tokens.
        const toml::table t = h.stored();
        h.write_session(t.at_path("tokens.access").value_or(std::string()),
                        t.at_path("tokens.refresh").value_or(std::string()), kPast, saas.url());
        const int rotations_before = saas.rotations;
        std::unique_ptr<PythonLockHolder> holder;
        if (round == kRounds / 2) {
            holder = std::make_unique<PythonLockHolder>(h.dir / "credentials.lock");
        }
        std::vector<std::thread> threads;
        std::vector<ProcessResult> results(kProcesses);
        for (int p = 0; p < kProcesses; ++p) {
            threads.emplace_back([&, p] { results[p] = h.run({"refresh"}); });
        }
        if (holder) {
            std::this_thread::sleep_for(std::chrono::milliseconds(800));
            holder->release();
        }
        for (auto& t : threads) {
            t.join();
        }
        for (const auto& r : results) {
            ASSERT_EQ(r.exit_code, 0) << "round " << round << ": " << r.out << r.err;
        }
        ASSERT_EQ(saas.rotations - rotations_before, 1) << "round " << round;
        const toml::table now = h.stored();
        ASSERT_EQ(now.at_path("tokens.refresh").value_or(std::string()), saas.current_refresh());
    }
}
