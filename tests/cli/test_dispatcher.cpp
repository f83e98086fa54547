// The spec-kitty dispatcher, run as a real binary.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "kitty/json.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using kitty::Json;
using kitty::test::make_project;
using kitty::test::ProcessResult;
using kitty::test::run_process;
using kitty::test::TempDir;

namespace {

ProcessResult sk(std::vector<std::string> args, const fs::path& cwd = {},
                 std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), kitty::test::tool_path("spec-kitty"));
    return run_process(args, {"", cwd, std::move(env)});
}

} // namespace

TEST(Dispatcher, VersionAndHelp) {
    const auto v = sk({"--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_NE(v.out.find("0.1.0"), std::string::npos);
    EXPECT_NE(v.out.find("3.1.1"), std::string::npos);
    const auto h = sk({"help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_NE(h.out.find("agent mission create"), std::string::npos);
    EXPECT_NE(h.out.find("completion bash|zsh|fish"), std::string::npos);
    const auto verb_help = sk({"help", "agent", "mission", "create"});
    EXPECT_EQ(verb_help.exit_code, 0);
    EXPECT_NE(verb_help.out.find("Kebab-case"), std::string::npos) << verb_help.out;
}

// A group of commands lists its members: with --help as the answer, bare as a usage error.
TEST(Dispatcher, AGroupListsItsCommands) {
    const auto help = sk({"agent", "mission", "--help"});
    EXPECT_EQ(help.exit_code, 0) << help.err;
    for (const char* cmd : {"agent mission create", "agent mission accept",
                            "agent mission finalize-tasks", "agent mission stamp-id"}) {
        EXPECT_NE(help.out.find(std::string("spec-kitty ") + cmd), std::string::npos) << cmd;
    }
    EXPECT_EQ(help.out.find("agent tasks"), std::string::npos);
    const auto bare = sk({"agent", "mission", "--json"});
    EXPECT_EQ(bare.exit_code, 2);
    EXPECT_NE(bare.out.find("\"code\": \"USAGE\""), std::string::npos) << bare.out;
    EXPECT_NE(bare.err.find("spec-kitty agent mission accept"), std::string::npos) << bare.err;
    EXPECT_EQ(sk({"help", "--help"}).exit_code, 0);
}

TEST(Dispatcher, MissionCreateTextByDefaultJsonOnRequest) {
    TempDir dir;
    make_project(dir.path());
    const auto text = sk({"agent", "mission", "create", "demo-feature"}, dir.path());
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("Mission created: 001-demo-feature"), std::string::npos);
    const auto json = sk({"agent", "mission", "create", "demo-feature", "--json"}, dir.path());
    EXPECT_EQ(json.exit_code, 0);
    const Json doc = Json::parse(json.out);
    EXPECT_EQ(doc["mission_slug"], "002-demo-feature");
}

TEST(Dispatcher, ExitCodesAndErrorsPassThrough) {
    TempDir dir;
    make_project(dir.path());
    auto r = sk({"agent", "mission", "create", "Bad_Slug", "--json"}, dir.path());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(Json::parse(r.out)["code"], "INVALID_SLUG");
    r = sk({"mint-id", "decode", "nope", "--json"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(Json::parse(r.out)["code"], "INVALID_ULID");
    r = sk({"mint-id", "decode", "nope"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("not a ULID"), std::string::npos);
}

TEST(Dispatcher, UnknownVerbIsExit2) {
    auto r = sk({"frobnicate", "now"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown command 'frobnicate now'"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    r = sk({"frobnicate", "--json"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(Json::parse(r.out)["code"], "UNKNOWN_COMMAND");
    EXPECT_EQ(sk({"../../bin/sh"}).exit_code, 2) << "verbs are never paths";
}

TEST(Dispatcher, FallsBackToKittyDashVerbOnPath) {
    TempDir dir;
    const fs::path script = dir / "kitty-hello";
    kitty::test::write_fixture(script, "#!/bin/sh\nprintf '%s|' \"$@\"\nexit 42\n");
    ::chmod(script.c_str(), 0755);
    const auto r =
        sk({"hello", "a b", "--json"}, {}, {{"PATH", dir.path().string() + ":/usr/bin:/bin"}});
    EXPECT_EQ(r.exit_code, 42);
    EXPECT_EQ(r.out, "--format|json|a b|");
}

TEST(Dispatcher, BashCompletionOffersTheNextWord) {
    const auto script = sk({"completion", "bash"});
    ASSERT_EQ(script.exit_code, 0);
    TempDir dir;
    kitty::test::write_fixture(dir / "c.bash", script.out);
    const auto complete = [&](const std::string& words, int cword) {
        return run_process({"/bin/bash", "-c",
                            "source " + (dir / "c.bash").string() + "; COMP_WORDS=(" + words +
                                "); COMP_CWORD=" + std::to_string(cword) +
                                "; _spec_kitty; echo \"${COMPREPLY[*]}\""})
            .out;
    };
    EXPECT_EQ(complete("spec-kitty agent mi", 2), "mission\n");
    EXPECT_EQ(complete("spec-kitty agent mission c", 3), "create\n");
    EXPECT_EQ(complete("spec-kitty mi", 1), "mint-id mission\n");
    EXPECT_EQ(complete("spec-kitty mission c", 2), "current\n");
    EXPECT_EQ(complete("spec-kitty da", 1), "dashboard\n");
    for (const char* shell : {"zsh", "fish"}) {
        const auto s = sk({"completion", shell});
        EXPECT_EQ(s.exit_code, 0);
        EXPECT_NE(s.out.find("agent mission create"), std::string::npos) << shell;
    }
    EXPECT_EQ(sk({"completion", "tcsh"}).exit_code, 2);
}

TEST(Dispatcher, LanesVerbRunsKittyLanes) {
    TempDir dir;
    make_project(dir.path());
    const fs::path m = dir.path() / "kitty-specs/001-demo";
    kitty::test::write_fixture(m / "tasks.md", "## WP01\n## WP02\nDepends on WP01\n");
    for (const char* id : {"WP01", "WP02"}) {
        kitty::test::write_fixture(m / "tasks" / (std::string(id) + "-x.md"),
                                   std::string("---\nwork_package_id: ") + id +
                                       "\nexecution_mode: code_change\nowned_files:\n- src/" + id +
                                       "/**\n---\n");
    }
    const auto text = sk({"lanes", "compute", "001-demo"}, dir.path());
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("runs:   WP01 -> WP02"), std::string::npos) << text.out;
    const auto json = sk({"lanes", "resolve", "001-demo", "WP02", "--json"}, dir.path());
    EXPECT_EQ(json.exit_code, 3); // nothing written yet: no lanes.json
    EXPECT_EQ(Json::parse(json.out)["code"], "MISSING_LANES");
    EXPECT_EQ(sk({"lanes", "compute", "001-demo", "--write"}, dir.path()).exit_code, 0);
    const auto resolved = sk({"lanes", "resolve", "001-demo", "WP02", "--json"}, dir.path());
    EXPECT_EQ(Json::parse(resolved.out)["branch"], "kitty/mission-001-demo-lane-a");
}

TEST(Dispatcher, AuthAndReleaseVerbs) {
    TempDir home;
    auto r = sk({"auth", "status", "--json"}, home.path(), {{"HOME", home.path().string()}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["logged_in"], false);
    r = sk({"auth", "status"}, home.path(), {{"HOME", home.path().string()}});
    EXPECT_NE(r.out.find("Not authenticated"), std::string::npos);
    r = sk({"release", "check", "--json"}, home.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(Json::parse(r.out)["ok"], false);
    const auto help = sk({"help"});
    for (const char* verb : {"auth login", "auth token", "release prep", "lanes", "init"}) {
        EXPECT_NE(help.out.find(verb), std::string::npos) << verb;
    }
}

// §2.4: output that never reached stdout was success (`kitty-mint-id > /dev/full` exited
// 0). Every binary checks stdout after flushing: exit 74 with a message on stderr, for a
// result, an error document and --version alike.
TEST(Dispatcher, EveryToolFailsWhenStdoutCannotBeWritten) {
    if (!fs::exists("/dev/full")) {
        GTEST_SKIP() << "no /dev/full";
    }
    TempDir home;
    const std::string tasks = "## WP01 One\n\nDependencies: None\n";
    const std::string lanes_input =
        R"({"mission_slug": "s", "dependency_graph": {"WP01": []}, "ownership_manifests": )"
        R"({"WP01": {"execution_mode": "code_change", "owned_files": ["src/**"]}}})";
    struct Run {
        std::vector<std::string> args;
        std::string input;
        int exit_code; // with a writable stdout
    };
    const std::vector<Run> runs{
        {{"kitty-mint-id"}, "", 0},
        {{"kitty-mint-id", "decode", "nope"}, "", 3},
        {{"kitty-init", "--list-agents"}, "", 0},
        {{"kitty-parse-tasks", "-"}, tasks, 0},
        {{"kitty-lanes", "compute", "-"}, lanes_input, 0},
        {{"kitty-status", "/nonexistent/kitty-specs/001-x"}, "", 3},
        {{"kitty-auth-refresh", "status"}, "", 0},
        {{"kitty-release-check", "--help"}, "", 0},
        {{"spec-kitty", "--version"}, "", 0},
    };
    std::vector<std::string> tools{"kitty-mint-id",       "kitty-init",   "kitty-parse-tasks",
                                   "kitty-lanes",         "kitty-status", "kitty-auth-refresh",
                                   "kitty-release-check", "kitty-merge",  "spec-kitty"};
    std::vector<Run> all = runs;
    for (const std::string& tool : tools) {
        all.push_back({{tool, "--version"}, "", 0});
    }
    for (Run run : all) {
        const std::string label = run.args[0] + " " + (run.args.size() > 1 ? run.args[1] : "");
        run.args[0] = kitty::test::tool_path(run.args[0]);
        const ProcessResult ok =
            run_process(run.args, {run.input, home.path(), {{"HOME", home.path().string()}}});
        EXPECT_EQ(ok.exit_code, run.exit_code) << label << ": " << ok.err;
        EXPECT_FALSE(ok.out.empty()) << label;
        kitty::test::ProcessOptions full{run.input, home.path(), {{"HOME", home.path().string()}}};
        full.stdout_file = "/dev/full";
        const ProcessResult r = run_process(run.args, full);
        EXPECT_EQ(r.exit_code, 74) << label << ": " << r.err;
        EXPECT_NE(r.err.find("cannot write the output to stdout"), std::string::npos)
            << label << ": " << r.err;
    }
}
