#include "headless_chromium.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "process.hpp"

namespace kitty::test {

namespace fs = std::filesystem;
using nlohmann::json;

std::string HeadlessChromium::executable() {
    for (const char* name : {"chromium", "chromium-browser"}) {
        if (std::string path = find_on_path(name); !path.empty()) {
            return path;
        }
    }
    return "";
}

HeadlessChromium::HeadlessChromium(const fs::path& profile_dir) {
    const std::string browser = executable();
    if (browser.empty()) {
        throw std::runtime_error("chromium is not installed");
    }
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    fs::create_directories(profile_dir);
    const std::vector<std::string> args = {browser,
                                           "--headless",
                                           "--no-sandbox",
                                           "--disable-gpu",
                                           "--remote-debugging-pipe",
                                           "--user-data-dir=" + profile_dir.string(),
                                           "--no-first-run",
                                           "--no-default-browser-check",
                                           "--disable-extensions",
                                           "--disable-background-networking",
                                           "--disable-component-update",
                                           "--disable-sync",
                                           "--disable-dev-shm-usage",
                                           "--mute-audio",
                                           "--hide-scrollbars",
                                           "--window-size=1280,1000",
                                           "about:blank"};
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
        // fd 3: what the browser reads; fd 4: what it writes. Moved out of the way first: a
        // pipe end that already is fd 3 would keep its close-on-exec flag through dup2.
        const int reads = ::fcntl(in[0], F_DUPFD, 10);
        const int writes = ::fcntl(out[1], F_DUPFD, 10);
        ::dup2(reads, 3);
        ::dup2(writes, 4);
        const int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        std::vector<char*> argv;
        for (const std::string& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_browser_ = in[1];
    from_browser_ = out[0];
}

HeadlessChromium::~HeadlessChromium() {
    try {
        call("Browser.close", json::object(), "");
    } catch (const std::exception&) {
        ::kill(pid_, SIGKILL);
    }
    ::close(to_browser_);
    ::close(from_browser_);
    for (int i = 0; i < 100; ++i) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

std::string HeadlessChromium::read_message(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const std::size_t end = buffer_.find('\0'); end != std::string::npos) {
            std::string message = buffer_.substr(0, end);
            buffer_.erase(0, end + 1);
            return message;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            throw std::runtime_error("chromium did not answer in time");
        }
        pollfd fd = {from_browser_, POLLIN, 0};
        if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char chunk[65536];
        const ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
        if (n <= 0) {
            throw std::runtime_error("chromium closed its pipe");
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

json HeadlessChromium::call(const std::string& method, json params, const std::string& session) {
    const int id = next_id_++;
    json message = {{"id", id}, {"method", method}, {"params", std::move(params)}};
    if (!session.empty()) {
        message["sessionId"] = session;
    }
    std::string bytes = message.dump();
    bytes.push_back('\0');
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(to_browser_, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
            throw std::runtime_error("cannot write to chromium");
        }
        done += static_cast<std::size_t>(n);
    }
    for (;;) {
        const json reply = json::parse(read_message(std::chrono::seconds(30)));
        if (reply.value("id", -1) != id) {
            continue; // an event, or a reply to nobody
        }
        if (reply.contains("error")) {
            throw std::runtime_error(method + ": " + reply["error"].dump());
        }
        return reply.value("result", json::object());
    }
}

void HeadlessChromium::open(const std::string& url) {
    // A new tab is about:blank (already "complete") until the navigation commits, so the tab
    // is attached first and then navigated.
    const json target = call("Target.createTarget", {{"url", "about:blank"}}, "");
    session_ = call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}},
                    "")["sessionId"];
    page_call("Page.navigate", {{"url", url}});
    if (!wait_until("location.href !== 'about:blank' && document.readyState === 'complete'",
                    std::chrono::seconds(20))) {
        throw std::runtime_error("the page did not load: " + url);
    }
}

json HeadlessChromium::page_call(const std::string& method, json params) {
    return call(method, std::move(params), session_);
}

json HeadlessChromium::evaluate(const std::string& expression) {
    const json result =
        page_call("Runtime.evaluate",
                  {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
    if (result.contains("exceptionDetails")) {
        throw std::runtime_error("in the page: " + result["exceptionDetails"].dump());
    }
    return result["result"].value("value", json());
}

bool HeadlessChromium::wait_until(const std::string& expression,
                                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            if (evaluate(expression) == true) {
                return true;
            }
        } catch (const std::runtime_error&) {
            // a page still navigating has no context to evaluate in
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

namespace {

std::string base64_decode(const std::string& text) {
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned value = 0;
    int bits = 0;
    for (const char c : text) {
        const std::size_t digit = alphabet.find(c);
        if (digit == std::string::npos) {
            continue; // padding
        }
        value = (value << 6) | static_cast<unsigned>(digit);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((value >> bits) & 0xFF));
        }
    }
    return out;
}

} // namespace

void HeadlessChromium::screenshot(const fs::path& png) {
    const json shot = page_call("Page.captureScreenshot", {{"format", "png"}});
    fs::create_directories(png.parent_path());
    std::ofstream(png, std::ios::binary) << base64_decode(shot["data"].get<std::string>());
}

fs::path artifact_dir() {
    if (const char* dir = std::getenv("KITTY_TEST_ARTIFACTS"); dir && *dir) {
        return dir;
    }
    return fs::temp_directory_path();
}

} // namespace kitty::test
