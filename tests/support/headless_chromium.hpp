// Test support: a real headless Chromium (Debian's `chromium`) driven over the DevTools
// protocol on a pipe (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4), so a
// test can load a page, read its live DOM, emulate a narrow or dark screen and take a
// screenshot.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace kitty::test {

class HeadlessChromium {
public:
    // The browser on $PATH, or empty when none is installed.
    static std::string executable();

    // Starts the browser with a fresh profile under `profile_dir`.
    explicit HeadlessChromium(const std::filesystem::path& profile_dir);
    HeadlessChromium(const HeadlessChromium&) = delete;
    HeadlessChromium& operator=(const HeadlessChromium&) = delete;
    ~HeadlessChromium();

    // A new tab on `url`, attached; returns once its document has loaded.
    void open(const std::string& url);

    // The value of a JavaScript expression in the page (promises awaited); a thrown
    // exception fails with std::runtime_error carrying its text.
    nlohmann::json evaluate(const std::string& expression);

    // Evaluates `expression` until it is true; false when `timeout` passed first.
    bool wait_until(const std::string& expression, std::chrono::milliseconds timeout);

    // A protocol command to the page's session; returns its result.
    nlohmann::json page_call(const std::string& method,
                             nlohmann::json params = nlohmann::json::object());

    // The page as PNG.
    void screenshot(const std::filesystem::path& png);

private:
    nlohmann::json call(const std::string& method, nlohmann::json params,
                        const std::string& session);
    std::string read_message(std::chrono::milliseconds timeout);

    pid_t pid_ = -1;
    int to_browser_ = -1;
    int from_browser_ = -1;
    int next_id_ = 1;
    std::string buffer_;
    std::string session_;
};

// Where a test keeps what it made for people to look at (screenshots):
// $KITTY_TEST_ARTIFACTS, else the temp directory.
std::filesystem::path artifact_dir();

} // namespace kitty::test
