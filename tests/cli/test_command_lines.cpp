// ARCHITECTURE.md decision 13 (issue 22 §6): every `spec-kitty …` command line kitty writes
// anywhere — the command files kitty-init installs for every agent, the loop's prompt
// templates, the docs and README, the tools' --help — names a command that exists: its
// --help exits 0.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "process.hpp"

namespace fs = std::filesystem;
using kitty::test::run_process;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::tool_path;

namespace {

// The command words of each `spec-kitty …` command line in `text`, with where it was seen.
// A command line starts a line (after "$ " or a list marker), a `code span` or a "string":
// prose that merely mentions spec-kitty is not one.
void command_lines(const std::string& text, const std::string& where,
                   std::map<std::string, std::string>& out) {
    static const RE2 start(
        R"((?:^\s*(?:\$\s+|[-*]\s+|\d+\.\s+)?|[`"'])spec-kitty((?: [a-z][a-z0-9-]*)*))");
    EXPECT_TRUE(start.ok()) << start.error();
    int number = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        end = end == std::string::npos ? text.size() : end;
        ++number;
        re2::StringPiece line(text.data() + pos, end - pos);
        std::string words;
        while (RE2::FindAndConsume(&line, start, &words)) {
            out.emplace(words, where + ":" + std::to_string(number));
        }
        pos = end + 1;
    }
}

void files_under(const fs::path& dir, std::vector<fs::path>& files) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().filename() != ".dashboard") {
            files.push_back(entry.path());
        }
    }
}

} // namespace

TEST(CommandLines, EverySpecKittyCommandKittyWritesRuns) {
    TempDir tmp;
    const auto init = run_process({tool_path("kitty-init"), tmp.path().string(), "--ai",
                                   "copilot,claude,gemini,cursor,qwen,opencode,codex,windsurf,"
                                   "kilocode,auggie,roo,q,antigravity",
                                   "--non-interactive"},
                                  {"", tmp.path(), {{"HOME", tmp.path().string()}}});
    ASSERT_EQ(init.exit_code, 0) << init.err;

    std::vector<fs::path> files;
    files_under(tmp.path(), files);
    const fs::path source = KITTY_SOURCE_DIR;
    files_under(source / "templates", files);
    files_under(source / "docs", files);
    files.push_back(source / "README.md");
    std::map<std::string, std::string> commands; // command words -> where first seen
    for (const fs::path& file : files) {
        command_lines(slurp(file), file.string(), commands);
    }
    // The tools' own --help: their hints are command lines too.
    for (const char* tool :
         {"kitty-init", "kitty-next", "kitty-status", "kitty-merge", "kitty-workspace",
          "kitty-lanes", "kitty-parse-tasks", "kitty-mint-id", "kitty-dashboard",
          "kitty-release-check", "kitty-auth-refresh", "spec-kitty"}) {
        command_lines(run_process({tool_path(tool), "--help"}).out, std::string(tool) + " --help",
                      commands);
    }
    ASSERT_GT(commands.size(), 20u); // the extraction found the commands
    for (const std::string cmd :
         {" dashboard", " agent mission accept", " next", " merge", " agent tasks status"}) {
        EXPECT_TRUE(commands.count(cmd)) << "spec-kitty" << cmd << " was not found anywhere";
    }
    for (const auto& [words, where] : commands) {
        std::vector<std::string> argv = {tool_path("spec-kitty")};
        std::string word;
        for (const char c : words + " ") {
            if (c == ' ') {
                if (!word.empty()) {
                    argv.push_back(word);
                }
                word.clear();
            } else {
                word += c;
            }
        }
        argv.push_back("--help");
        const auto r = run_process(argv, {"", tmp.path(), {{"HOME", tmp.path().string()}}});
        EXPECT_EQ(r.exit_code, 0) << "spec-kitty" << words << " --help (written in " << where
                                  << "): " << r.err;
    }
}
