// kitty-release-check on a repository with 500 release tags and a 5,000-line CHANGELOG:
// the whole process (budget: 20 ms) and the changelog scan on its own.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <git2.h>

#include "kitty/release.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

void check(int rc, const char* what) {
    if (rc != 0) {
        throw std::runtime_error(what);
    }
}

std::string changelog_text() {
    std::string text = "# Changelog\n\n## [Unreleased]\n\n";
    // Newest first, as real changelogs are; the released version's section is last, so the
    // scan reads everything.
    for (int v = 499; v >= 0; --v) {
        text += "## [0." + std::to_string(v / 100) + "." + std::to_string(v % 100) +
                "] - 2026-01-01\n\n### Fixed\n";
        for (int i = 0; i < 6; ++i) {
            text += "- change " + std::to_string(i) + " of this release\n";
        }
        text += "\n";
    }
    return text + "## [9.9.9] - 2026-11-24\n\n- the release\n";
}

// A repository with one commit and tags v0.0.0 … v0.4.99, made with libgit2.
struct Fixture {
    fs::path root;

    Fixture() {
        std::string tmpl = (fs::temp_directory_path() / "kitty-bench-release-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        root = tmpl;
        fs::create_directories(root / ".kittify");
        std::ofstream(root / "pyproject.toml") << "[project]\nversion = \"9.9.9\"\n";
        std::ofstream(root / ".kittify/metadata.yaml") << "spec_kitty:\n  version: 9.9.9\n";
        std::ofstream(root / "CHANGELOG.md") << changelog_text();

        git_libgit2_init();
        git_repository* repo = nullptr;
        check(git_repository_init(&repo, root.c_str(), 0), "init");
        git_index* index = nullptr;
        check(git_repository_index(&index, repo), "index");
        check(git_index_add_all(index, nullptr, 0, nullptr, nullptr), "add");
        git_oid tree_id, commit_id;
        check(git_index_write_tree(&tree_id, index), "tree");
        git_tree* tree = nullptr;
        check(git_tree_lookup(&tree, repo, &tree_id), "lookup");
        git_signature* sig = nullptr;
        check(git_signature_new(&sig, "bench", "bench@kitty.invalid", 1767225600, 0), "sig");
        check(git_commit_create(&commit_id, repo, "HEAD", sig, sig, nullptr, "c", tree, 0, nullptr),
              "commit");
        git_object* target = nullptr;
        check(git_object_lookup(&target, repo, &commit_id, GIT_OBJECT_COMMIT), "object");
        for (int v = 0; v < 500; ++v) {
            const std::string name =
                "v0." + std::to_string(v / 100) + "." + std::to_string(v % 100);
            git_oid id;
            check(git_tag_create_lightweight(&id, repo, name.c_str(), target, 0), "tag");
        }
        git_object_free(target);
        git_signature_free(sig);
        git_tree_free(tree);
        git_index_free(index);
        git_repository_free(repo);
        git_libgit2_shutdown();
    }
    ~Fixture() { fs::remove_all(root); }
};

const Fixture& fixture() {
    static const Fixture f;
    return f;
}

void BM_ReleaseCheckProcess(benchmark::State& state) {
    const std::string tool = std::string(KITTY_BIN_DIR) + "/kitty-release-check";
    const std::string dir = fixture().root.string();
    std::vector<std::string> args{tool, "--mode", "tag", "--tag", "v9.9.9"};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    for (auto _ : state) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
        pid_t pid = 0;
        posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            state.SkipWithError("kitty-release-check did not pass on the fixture");
            break;
        }
    }
}
BENCHMARK(BM_ReleaseCheckProcess)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ChangelogScan(benchmark::State& state) {
    const std::string text = changelog_text();
    for (auto _ : state) {
        benchmark::DoNotOptimize(kitty::changelog_has_entry(text, "9.9.9"));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ChangelogScan)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
