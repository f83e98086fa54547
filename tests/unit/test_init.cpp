// The .gitignore and .gitattributes merges of spec/init.md §4.4–4.5, the agent registry of
// §3.3 and --ai parsing of §1.2.
#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/init.hpp"
#include "kitty/templates.hpp"

using kitty::gitattributes_with_merge_line;
using kitty::gitignore_with_managed_entries;

TEST(Gitignore, FreshFileIsTheMarkerAndEveryEntry) {
    const auto text = gitignore_with_managed_entries(std::nullopt);
    ASSERT_TRUE(text);
    EXPECT_EQ(text->substr(0, 50), "# Added by Spec Kitty CLI (auto-managed)\n.claude/\n");
    EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 27);
    EXPECT_TRUE(text->ends_with("\n.kittify/workspaces/\n.worktrees/\n"));
    // Nothing is missing any more: no change.
    EXPECT_FALSE(gitignore_with_managed_entries(*text));
}

TEST(Gitignore, AppendsOnlyWhatIsMissingAndKeepsUserLines) {
    const std::string user = "node_modules/\n.claude/\n*.log";
    const auto text = gitignore_with_managed_entries(user);
    ASSERT_TRUE(text);
    EXPECT_TRUE(text->starts_with(
        "node_modules/\n.claude/\n*.log\n\n# Added by Spec Kitty CLI (auto-managed)\n.codex/\n"))
        << *text;
    EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 3 + 1 + 1 + 25);
    EXPECT_EQ(text->find(".claude/", 20), std::string::npos) << "no duplicate entry";

    // With the marker present no second marker is added; CRLF files stay CRLF; a BOM is
    // dropped as 3.1.1's utf-8-sig read drops it.
    const auto crlf =
        gitignore_with_managed_entries("\xEF\xBB\xBF# Added by Spec Kitty CLI (auto-managed)\r\n"
                                       ".codex/\r\n");
    ASSERT_TRUE(crlf);
    EXPECT_EQ(crlf->substr(0, 51), "# Added by Spec Kitty CLI (auto-managed)\r\n.codex/\r\n");
    EXPECT_EQ(crlf->find("\n", 0), crlf->find("\r\n") + 1);
    EXPECT_EQ(std::count(crlf->begin(), crlf->end(), '\r'),
              std::count(crlf->begin(), crlf->end(), '\n'));
}

TEST(Gitattributes, AppendsTheMergeLineOnce) {
    const std::string line = "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n";
    EXPECT_EQ(gitattributes_with_merge_line(std::nullopt), line);
    EXPECT_EQ(gitattributes_with_merge_line("*.png binary\n\n"), "*.png binary\n\n" + line);
    EXPECT_FALSE(gitattributes_with_merge_line("*.png binary\n" + line));
}

TEST(AgentRegistry, ThirteenAgentsInReferenceOrder) {
    const auto& agents = kitty::agent_registry();
    ASSERT_EQ(agents.size(), 13u);
    EXPECT_EQ(agents.front().key, "copilot");
    EXPECT_EQ(agents.back().key, "antigravity");
    EXPECT_EQ(agents[6].key, "codex");
    EXPECT_EQ(agents[6].shim_arguments, "$PROMPT");
    EXPECT_EQ(agents[5].command_dir, ".opencode/command");
    EXPECT_TRUE(agents[2].toml());
}

TEST(AgentSelection, ParsesAsReferenceDoes) {
    const auto picked = kitty::parse_agent_selection(" Claude ; codex,claude,, ");
    ASSERT_EQ(picked.size(), 2u);
    EXPECT_EQ(picked[0]->key, "claude");
    EXPECT_EQ(picked[1]->key, "codex");
    EXPECT_THROW(kitty::parse_agent_selection(",;"), kitty::Error);
    try {
        kitty::parse_agent_selection("claude,emacs,vim");
        FAIL();
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::usage);
        EXPECT_NE(std::string(e.what()).find("emacs, vim"), std::string::npos);
    }
}

// Every template renders into valid TOML (no backslash, no triple quote) and none names
// top-level `spec-kitty implement`.
TEST(CommandTemplates, AreSafeForEveryFormat) {
    for (const auto& agent : kitty::agent_registry()) {
        const auto files = kitty::agent_command_files(agent);
        ASSERT_EQ(files.size(), 16u);
        for (const auto& [path, text] : files) {
            EXPECT_TRUE(path.starts_with(agent.command_dir + "/spec-kitty.")) << path;
            EXPECT_TRUE(path.ends_with("." + agent.extension)) << path;
            EXPECT_EQ(text.find("spec-kitty implement"), std::string::npos) << path;
            EXPECT_EQ(text.find("__AGENT__"), std::string::npos) << path;
            if (agent.toml()) {
                EXPECT_EQ(text.find('\\'), std::string::npos) << path;
                const std::size_t open = text.find("prompt = \"\"\"\n");
                ASSERT_NE(open, std::string::npos) << path;
                const std::size_t close = text.rfind("\"\"\"");
                EXPECT_EQ(close, text.size() - 4) << path;
                EXPECT_EQ(text.substr(open + 13, close - open - 13).find("\"\"\""),
                          std::string::npos)
                    << path;
            }
        }
    }
}
