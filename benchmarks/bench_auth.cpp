// What kitty adds to a token refresh: an uncontended refresh through the library (lock,
// read, POST, rotate, atomic save with fsync) against a bare libcurl POST to the same
// loopback server. Budget for the difference: under 5 ms. And how soon the total timeout
// ends an exchange with a slow server.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include "fake_saas.hpp"
#include "kitty/auth.hpp"
#include "kitty/error.hpp"

namespace {

namespace fs = std::filesystem;

struct Fixture {
    kitty::test::FakeSaas saas;
    fs::path home;

    Fixture() {
        char tmpl[] = "/tmp/kitty-bench-auth-XXXXXX";
        home = ::mkdtemp(tmpl);
        fs::create_directories(home / ".spec-kitty");
        std::ofstream(home / ".spec-kitty/config.toml")
            << "[sync]\nserver_url = \"" << saas.url() << "\"\n";
        std::ofstream(home / ".spec-kitty/credentials")
            << "[tokens]\naccess = \"a0\"\nrefresh = \"r0\"\n"
               "access_expires_at = \"2020-01-01T00:00:00+00:00\"\n"
               "refresh_expires_at = \"2099-01-01T00:00:00+00:00\"\n\n[user]\nusername = \"b\"\n\n"
               "[server]\nurl = \""
            << saas.url() << "\"\n";
        saas.set_current_refresh("r0");
        ::setenv("HOME", home.c_str(), 1);
    }
    ~Fixture() { fs::remove_all(home); }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void BM_KittyRefresh(benchmark::State& state) {
    Fixture& f = fixture();
    (void)f;
    const kitty::AuthOptions options;
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::auth_refresh_command(options, true));
    }
}
BENCHMARK(BM_KittyRefresh)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same POST with nothing around it (the server answers 401 to a spent token just as
// fast as it rotates a current one).
void BM_BareCurlPost(benchmark::State& state) {
    const std::string url = fixture().saas.url() + "/api/v1/token/refresh/";
    const std::string body = "{\"refresh\": \"spent\"}";
    for (auto _ : state) {
        CURL* c = curl_easy_init();
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(
            c, CURLOPT_WRITEFUNCTION,
            +[](char*, std::size_t size, std::size_t n, void*) { return size * n; });
        benchmark::DoNotOptimize(curl_easy_perform(c));
        curl_slist_free_all(headers);
        curl_easy_cleanup(c);
    }
}
BENCHMARK(BM_BareCurlPost)->Unit(benchmark::kMillisecond)->UseRealTime();

// The total timeout bounds the whole exchange: against a server that answers after 1.5 s,
// a refresh with a 0.5 s timeout fails (exit 75) after about 0.5 s. Budget: under 1.4 s
// (moved here from tests/cli/test_auth.cpp, which only checks the outcome).
void BM_RefreshTimeoutAgainstASlowServer(benchmark::State& state) {
    Fixture& f = fixture();
    kitty::AuthOptions options;
    options.http_timeout = std::chrono::milliseconds(500);
    f.saas.delay_ms = 1500;
    for (auto _ : state) {
        try {
            kitty::auth_refresh_command(options, true);
            state.SkipWithError("the slow server was waited for");
        } catch (const kitty::Error& e) {
            if (e.exit() != kitty::Exit::temporary) {
                state.SkipWithError(e.what());
            }
        }
    }
    f.saas.delay_ms = 0;
}
BENCHMARK(BM_RefreshTimeoutAgainstASlowServer)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

} // namespace

BENCHMARK_MAIN();
