#include "fake_saas.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace fs = std::filesystem;

namespace kitty::test {

TestCertificate make_test_certificate(const fs::path& dir) {
    TestCertificate c{dir / "server.crt", dir / "server.key"};
    const auto r = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                "-days", "2", "-subj", "/CN=localhost", "-addext",
                                "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
                                c.key.string(), "-out", c.cert.string()});
    if (r.exit_code != 0) {
        throw std::runtime_error("openssl req failed: " + r.err);
    }
    return c;
}

struct FakeSaas::Impl {
    std::unique_ptr<httplib::Server> server;
    std::thread thread;
    int port = 0;
    bool tls = false;
    mutable std::mutex mutex;
    std::string current_refresh;
};

FakeSaas::FakeSaas(const TestCertificate* certificate) : impl_(std::make_unique<Impl>()) {
    if (certificate != nullptr) {
        impl_->server = std::make_unique<httplib::SSLServer>(certificate->cert.c_str(),
                                                             certificate->key.c_str());
        impl_->tls = true;
    } else {
        impl_->server = std::make_unique<httplib::Server>();
    }
    httplib::Server& s = *impl_->server;
    const auto issue = [this](httplib::Response& res) {
        const int n = ++rotations;
        const std::string refresh = "r" + std::to_string(n);
        {
            std::lock_guard lock(impl_->mutex);
            impl_->current_refresh = refresh;
        }
        nlohmann::json reply{{"access", "a" + std::to_string(n)},
                             {"refresh", refresh},
                             {"access_lifetime", 900},
                             {"refresh_lifetime", 604800},
                             {"team_slug", "team"}};
        if (absurd_lifetimes) {
            reply["access_lifetime"] = 9223372036854775807LL;
            reply["refresh_lifetime"] = 1e300;
        }
        res.set_content(reply.dump(), "application/json");
    };
    s.Post("/api/v1/token/", [this, issue](const httplib::Request& req, httplib::Response& res) {
        ++login_requests;
        const auto body = nlohmann::json::parse(req.body, nullptr, false);
        if (!body.is_object() || body.value("password", "") != "secret") {
            res.status = 401;
            return;
        }
        issue(res);
    });
    s.Post("/api/v1/token/refresh/",
           [this, issue](const httplib::Request& req, httplib::Response& res) {
               ++refresh_requests;
               if (const int d = delay_ms.load(); d > 0) {
                   std::this_thread::sleep_for(std::chrono::milliseconds(d));
               }
               if (const int status = forced_status.load(); status != 0) {
                   res.status = status;
                   return;
               }
               if (malformed) {
                   res.set_content("{not json", "application/json");
                   return;
               }
               const auto body = nlohmann::json::parse(req.body, nullptr, false);
               const std::string sent = body.is_object() ? body.value("refresh", "") : "";
               {
                   std::lock_guard lock(impl_->mutex);
                   if (sent.empty() || sent != impl_->current_refresh) {
                       res.status = 401; // spent or unknown: rotation allows one use
                       return;
                   }
               }
               issue(res);
           });
    impl_->port = s.bind_to_any_port("127.0.0.1");
    impl_->thread = std::thread([&s] { s.listen_after_bind(); });
    while (!s.is_running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

FakeSaas::~FakeSaas() {
    impl_->server->stop();
    impl_->thread.join();
}

std::string FakeSaas::url() const {
    return std::string(impl_->tls ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(impl_->port);
}

void FakeSaas::set_current_refresh(const std::string& refresh) {
    std::lock_guard lock(impl_->mutex);
    impl_->current_refresh = refresh;
}

std::string FakeSaas::current_refresh() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->current_refresh;
}

} // namespace kitty::test
