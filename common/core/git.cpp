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

std::optional<BranchProgress> commits_since_default_branch(const std::filesystem::path& dir) {
    Repository repo = open_repository(dir);
    if (!repo) {
        return std::nullopt;
    }
    git_repository* r = repo.get();
    // The default branch: origin/HEAD's target, else the first of main, master, develop.
    std::string branch;
    git_reference* origin_head = nullptr;
    if (git_reference_lookup(&origin_head, r, "refs/remotes/origin/HEAD") == 0) {
        if (git_reference_type(origin_head) == GIT_REFERENCE_SYMBOLIC) {
            const std::string target = git_reference_symbolic_target(origin_head);
            branch = target.substr(target.rfind('/') + 1);
        }
        git_reference_free(origin_head);
    }
    git_oid base_tip, head;
    bool found = false;
    for (const std::string& candidate : branch.empty()
                                            ? std::vector<std::string>{"main", "master", "develop"}
                                            : std::vector<std::string>{branch}) {
        if (git_reference_name_to_id(&base_tip, r, ("refs/heads/" + candidate).c_str()) == 0) {
            found = true;
            break;
        }
    }
    if (!found || git_reference_name_to_id(&head, r, "HEAD") != 0) {
        return std::nullopt;
    }
    git_oid base;
    if (git_merge_base(&base, r, &head, &base_tip) != 0) {
        return std::nullopt;
    }
    git_revwalk* walk = nullptr;
    if (git_revwalk_new(&walk, r) != 0) {
        return std::nullopt;
    }
    std::unique_ptr<git_revwalk, decltype(&git_revwalk_free)> owned_walk(walk, &git_revwalk_free);
    git_revwalk_push(walk, &head);
    git_revwalk_hide(walk, &base);
    BranchProgress progress;
    for (git_oid id; git_revwalk_next(&id, walk) == 0;) {
        ++progress.commits_ahead;
    }
    git_commit* commit = nullptr;
    if (git_commit_lookup(&commit, r, &head) == 0) {
        progress.last_commit_time = git_commit_time(commit);
        progress.offset_minutes = git_commit_time_offset(commit);
        git_commit_free(commit);
    }
    return progress;
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
