#include "kitty/git.hpp"

#include <memory>

#include <git2.h>

namespace kitty {
namespace {

struct LibGit2 {
    LibGit2() { git_libgit2_init(); }
    ~LibGit2() { git_libgit2_shutdown(); }
};

using Repository = std::unique_ptr<git_repository, decltype(&git_repository_free)>;
using Reference = std::unique_ptr<git_reference, decltype(&git_reference_free)>;

Repository open_repository(const std::filesystem::path& dir) {
    static LibGit2 library;
    git_repository* repo = nullptr;
    if (git_repository_open_ext(&repo, dir.c_str(), 0, nullptr) != 0) {
        repo = nullptr;
    }
    return Repository(repo, &git_repository_free);
}

} // namespace

std::optional<std::string> current_branch(const std::filesystem::path& dir) {
    Repository repo = open_repository(dir);
    if (!repo) {
        return std::nullopt;
    }
    git_reference* raw = nullptr;
    if (git_reference_lookup(&raw, repo.get(), "HEAD") != 0) {
        return std::nullopt;
    }
    Reference head(raw, &git_reference_free);
    if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) {
        return std::nullopt;
    }
    std::string target = git_reference_symbolic_target(head.get());
    constexpr std::string_view heads = "refs/heads/";
    if (!target.starts_with(heads)) {
        return std::nullopt;
    }
    return target.substr(heads.size());
}

std::optional<std::filesystem::path> git_common_dir(const std::filesystem::path& dir) {
    Repository repo = open_repository(dir);
    if (!repo) {
        return std::nullopt;
    }
    std::filesystem::path common = git_repository_commondir(repo.get());
    return common.lexically_normal();
}

} // namespace kitty
