// What kitty adds to a token refresh: an uncontended refresh through the library (lock,
// read, POST, rotate, atomic save with fsync) against a bare libcurl POST to the same
// loopback server. Budget for the difference: under 5 ms.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include "fake_saas.hpp"
#include "kitty/auth.hpp"

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

} // namespace

BENCHMARK_MAIN();
