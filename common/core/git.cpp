#include "kitty/git.hpp"

#include <algorithm>
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

std::optional<std::filesystem::path> work_tree_root(const std::filesystem::path& dir) {
    Repository repo = open_repository(dir);
    if (!repo || git_repository_workdir(repo.get()) == nullptr) {
        return std::nullopt;
    }
    return std::filesystem::path(git_repository_workdir(repo.get())).lexically_normal();
}

std::optional<std::vector<GitTag>> list_tags(const std::filesystem::path& dir,
                                             const std::string& pattern, bool commit_times) {
    Repository repo = open_repository(dir);
    if (!repo) {
        return std::nullopt;
    }
    git_strarray names{};
    if (git_tag_list_match(&names, pattern.c_str(), repo.get()) != 0) {
        return std::nullopt;
    }
    std::vector<GitTag> tags;
    for (std::size_t i = 0; i < names.count; ++i) {
        GitTag tag{names.strings[i], 0};
        git_object* target = nullptr;
        if (commit_times &&
            git_revparse_single(&target, repo.get(), ("refs/tags/" + tag.name).c_str()) == 0) {
            git_object* peeled = nullptr;
            if (git_object_peel(&peeled, target, GIT_OBJECT_COMMIT) == 0) {
                tag.commit_time = git_commit_time(reinterpret_cast<git_commit*>(peeled));
                git_object_free(peeled);
            }
            git_object_free(target);
        }
        tags.push_back(std::move(tag));
    }
    git_strarray_dispose(&names);
    std::sort(tags.begin(), tags.end(),
              [](const GitTag& a, const GitTag& b) { return a.name < b.name; });
    return tags;
}

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
