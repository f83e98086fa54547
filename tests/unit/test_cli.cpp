// The output contract of kitty::Tool, which every kitty-* main() goes through.
#include <gtest/gtest.h>

#include "kitty/cli.hpp"

using kitty::Exit;
using kitty::Json;
using kitty::Outcome;
using testing::internal::CaptureStderr;
using testing::internal::CaptureStdout;
using testing::internal::GetCapturedStderr;
using testing::internal::GetCapturedStdout;

namespace {

struct Run {
    int exit_code;
    std::string out, err;
};

Run run_tool(std::vector<std::string> args, const std::function<Outcome()>& action) {
    kitty::Tool tool("kitty-test", "test tool");
    args.insert(args.begin(), "kitty-test");
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    CaptureStdout();
    CaptureStderr();
    const int rc = tool.run(static_cast<int>(argv.size()), argv.data(), action);
    std::string out = GetCapturedStdout();
    return {rc, out, GetCapturedStderr()};
}

Outcome ok() {
    return Outcome::success({{"answer", 42}}, "the answer is 42\n");
}

} // namespace

TEST(ToolContract, SuccessIsOneJsonDocumentOrText) {
    auto r = run_tool({}, ok);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "{\"answer\": 42}\n");
    EXPECT_EQ(r.err, "");
    r = run_tool({"--format", "text"}, ok);
    EXPECT_EQ(r.out, "the answer is 42\n");
}

TEST(ToolContract, ErrorsBecomeTheFailureDocumentAndTheirExitCode) {
    const auto r = run_tool({}, []() -> Outcome {
        throw kitty::Error(Exit::conflict, "AMBIGUOUS_MISSION", "two match", "pick one")
            .at("/p/kitty-specs", 7);
    });
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_EQ(r.out, "{\"error\": \"two match\", \"code\": \"AMBIGUOUS_MISSION\", \"hint\": "
                     "\"pick one\", \"path\": \"/p/kitty-specs\", \"line\": 7}\n");
    EXPECT_EQ(r.err, "kitty-test: error: two match\nkitty-test: hint: pick one\n");
}

TEST(ToolContract, AnEscapedExceptionIsExit70NeverACrash) {
    auto r = run_tool({}, []() -> Outcome { throw std::out_of_range("vector::at"); });
    EXPECT_EQ(r.exit_code, 70);
    const Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["code"], "INTERNAL");
    EXPECT_NE(doc["error"].get<std::string>().find("internal error"), std::string::npos);
    EXPECT_NE(doc["error"].get<std::string>().find("vector::at"), std::string::npos);
    r = run_tool({"--format", "text"}, []() -> Outcome { throw std::runtime_error("boom"); });
    EXPECT_EQ(r.exit_code, 70);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("boom"), std::string::npos);
}

TEST(ToolContract, UsageErrorIsExit2) {
    const auto r = run_tool({"--no-such-flag"}, ok);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(Json::parse(r.out)["code"], "USAGE");
}

TEST(ToolContract, FindingsGoToStderrOneLineEach) {
    const auto r = run_tool({"--color", "never"}, [] {
        Outcome o = Outcome::success({{"findings", 1}}, "");
        o.findings.push_back(
            {"warning", "SELF_DEPENDENCY", "WP02 depends on itself", "tasks.md", 12});
        o.exit = Exit::check_failed;
        return o;
    });
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "tasks.md:12: warning: WP02 depends on itself\n");
    EXPECT_EQ(r.out, "{\"findings\": 1}\n");
}

TEST(ToolContract, ColourOnlyWhenAskedAndNeverInJson) {
    const auto r = run_tool({"--color", "always"},
                            []() -> Outcome { throw kitty::Error(Exit::input, "X", "bad", ""); });
    EXPECT_NE(r.err.find("\033[31m"), std::string::npos);
    EXPECT_EQ(r.out.find('\033'), std::string::npos);
}
