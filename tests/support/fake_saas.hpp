// A fake spec-kitty SaaS on loopback (cpp-httplib), over HTTP or HTTPS, for the auth tests:
// login and refresh endpoints with refresh-token rotation (each token valid once, reuse is
// a 401), and knobs for delays, errors and malformed replies. It counts requests.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace kitty::test {

// A self-signed certificate for 127.0.0.1/localhost, made with the openssl command.
struct TestCertificate {
    std::filesystem::path cert;
    std::filesystem::path key;
};
TestCertificate make_test_certificate(const std::filesystem::path& dir);

class FakeSaas {
public:
    // Plain HTTP, or HTTPS with `certificate`.
    explicit FakeSaas(const TestCertificate* certificate = nullptr);
    ~FakeSaas();
    FakeSaas(const FakeSaas&) = delete;
    FakeSaas& operator=(const FakeSaas&) = delete;

    std::string url() const; // http(s)://127.0.0.1:<port>

    // Makes `refresh` the one valid refresh token, as if a login had just returned it.
    void set_current_refresh(const std::string& refresh);
    std::string current_refresh() const;

    std::atomic<int> refresh_requests{0};
    std::atomic<int> login_requests{0};
    std::atomic<int> rotations{0};
    std::atomic<int> delay_ms{0};      // before answering a refresh
    std::atomic<int> forced_status{0}; // answer refreshes with this status (0: normal)
    std::atomic<bool> malformed{false};
    std::atomic<bool> absurd_lifetimes{false}; // lifetimes no datetime can hold

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace kitty::test
