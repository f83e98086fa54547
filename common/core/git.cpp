#include "kitty/git.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/merge.h>
#include <git2/sys/repository.h>
#include <nlohmann/json.hpp>

#include "kitty/atomic_file.hpp"
#include "kitty/error.hpp"
#include "kitty/shared_library.hpp"
#include "kitty/text.hpp"

namespace fs = std::filesystem;

namespace kitty {
namespace {

// Every libgit2 function kitty calls, resolved once from the library loaded on first use.
#define KITTY_GIT_FUNCTIONS(X)                                                                     \
    X(git_libgit2_init)                                                                            \
    X(git_libgit2_opts)                                                                            \
    X(git_error_last)                                                                              \
    X(git_repository_open_ext)                                                                     \
    X(git_repository_free)                                                                         \
    X(git_repository_workdir)                                                                      \
    X(git_repository_commondir)                                                                    \
    X(git_repository_path)                                                                         \
    X(git_repository_index)                                                                        \
    X(git_reference_lookup)                                                                        \
    X(git_reference_free)                                                                          \
    X(git_reference_type)                                                                          \
    X(git_reference_symbolic_target)                                                               \
    X(git_reference_name_to_id)                                                                    \
    X(git_revparse_single)                                                                         \
    X(git_object_peel)                                                                             \
    X(git_object_free)                                                                             \
    X(git_object_id)                                                                               \
    X(git_commit_lookup)                                                                           \
    X(git_commit_summary)                                                                          \
    X(git_commit_free)                                                                             \
    X(git_commit_time)                                                                             \
    X(git_commit_time_offset)                                                                      \
    X(git_commit_create)                                                                           \
    X(git_tag_list_match)                                                                          \
    X(git_strarray_dispose)                                                                        \
    X(git_merge_base)                                                                              \
    X(git_revwalk_new)                                                                             \
    X(git_revwalk_free)                                                                            \
    X(git_revwalk_push)                                                                            \
    X(git_revwalk_hide)                                                                            \
    X(git_revwalk_next)                                                                            \
    X(git_graph_descendant_of)                                                                     \
    X(git_merge_commits)                                                                           \
    X(git_status_options_init)                                                                     \
    X(git_status_list_new)                                                                         \
    X(git_status_list_entrycount)                                                                  \
    X(git_status_byindex)                                                                          \
    X(git_status_list_free)                                                                        \
    X(git_branch_create)                                                                           \
    X(git_branch_lookup)                                                                           \
    X(git_branch_delete)                                                                           \
    X(git_branch_iterator_new)                                                                     \
    X(git_branch_next)                                                                             \
    X(git_branch_iterator_free)                                                                    \
    X(git_branch_name)                                                                             \
    X(git_worktree_list)                                                                           \
    X(git_worktree_lookup)                                                                         \
    X(git_worktree_free)                                                                           \
    X(git_worktree_add)                                                                            \
    X(git_worktree_add_options_init)                                                               \
    X(git_worktree_path)                                                                           \
    X(git_worktree_validate)                                                                       \
    X(git_worktree_prune)                                                                          \
    X(git_worktree_prune_options_init)                                                             \
    X(git_index_free)                                                                              \
    X(git_index_add_bypath)                                                                        \
    X(git_index_remove_bypath)                                                                     \
    X(git_index_write)                                                                             \
    X(git_index_write_tree)                                                                        \
    X(git_index_write_tree_to)                                                                     \
    X(git_index_has_conflicts)                                                                     \
    X(git_index_conflict_iterator_new)                                                             \
    X(git_index_conflict_next)                                                                     \
    X(git_index_conflict_iterator_free)                                                            \
    X(git_tree_lookup)                                                                             \
    X(git_tree_entrycount)                                                                         \
    X(git_tree_entry_byindex)                                                                      \
    X(git_tree_entry_name)                                                                         \
    X(git_tree_entry_id)                                                                           \
    X(git_tree_entry_filemode)                                                                     \
    X(git_tree_free)                                                                               \
    X(git_signature_default)                                                                       \
    X(git_signature_free)                                                                          \
    X(git_commit_tree)                                                                             \
    X(git_reference_create_matching)                                                               \
    X(git_checkout_options_init)                                                                   \
    X(git_tree_id)                                                                                 \
    X(git_oid_tostr_s)                                                                             \
    X(git_oid_equal)                                                                               \
    X(git_annotated_commit_lookup)                                                                 \
    X(git_annotated_commit_free)                                                                   \
    X(git_merge)                                                                                   \
    X(git_merge_options_init)                                                                      \
    X(git_index_add_all)                                                                           \
    X(git_index_update_all)                                                                        \
    X(git_index_read)                                                                              \
    X(git_index_new)                                                                               \
    X(git_index_open)                                                                              \
    X(git_index_read_tree)                                                                         \
    X(git_index_add)                                                                               \
    X(git_index_get_bypath)                                                                        \
    X(git_index_entrycount)                                                                        \
    X(git_index_get_byindex)                                                                       \
    X(git_index_find_prefix)                                                                       \
    X(git_odb_add_disk_alternate)                                                                  \
    X(git_odb_write)                                                                               \
    X(git_repository_state_cleanup)                                                                \
    X(git_oid_fromstrn)                                                                            \
    X(git_odb_hash)                                                                                \
    X(git_repository_hashfile)                                                                     \
    X(git_blob_filter)                                                                             \
    X(git_buf_dispose)                                                                             \
    X(git_merge_driver_register)                                                                   \
    X(git_merge_driver_source_repo)                                                                \
    X(git_merge_driver_source_ancestor)                                                            \
    X(git_merge_driver_source_ours)                                                                \
    X(git_merge_driver_source_theirs)                                                              \
    X(git_blob_lookup)                                                                             \
    X(git_blob_rawcontent)                                                                         \
    X(git_blob_rawsize)                                                                            \
    X(git_blob_free)                                                                               \
    X(git_buf_set)                                                                                 \
    X(git_config_open_ondisk)                                                                      \
    X(git_config_free)                                                                             \
    X(git_config_get_entry)                                                                        \
    X(git_config_entry_free)                                                                       \
    X(git_config_set_string)                                                                       \
    X(git_repository_odb)                                                                          \
    X(git_odb_free)                                                                                \
    X(git_odb_add_backend)                                                                         \
    X(git_mempack_new)                                                                             \
    X(git_odb_new)                                                                                 \
    X(git_repository_new)                                                                          \
    X(git_repository_set_odb)                                                                      \
    X(git_reset)                                                                                   \
    X(git_remote_list)                                                                             \
    X(git_tree_create_updated)                                                                     \
    X(git_tree_entry_bypath)                                                                       \
    X(git_tree_entry_free)

struct LibGit2 {
#define KITTY_GIT_MEMBER(name) decltype(&::name) name;
    KITTY_GIT_FUNCTIONS(KITTY_GIT_MEMBER)
#undef KITTY_GIT_MEMBER
};

const LibGit2& lg() {
    static const LibGit2 api = [] {
        static const SharedLibrary library(KITTY_LIBGIT2_SONAME, "libgit2-" KITTY_LIBGIT2_ABI,
                                           "git_libgit2_init");
        LibGit2 loaded{};
#define KITTY_GIT_LOAD(name) loaded.name = library.function<decltype(&::name)>(#name);
        KITTY_GIT_FUNCTIONS(KITTY_GIT_LOAD)
#undef KITTY_GIT_LOAD
        loaded.git_libgit2_init();
        // Every object kitty writes into a tree or commit it made or read itself a moment
        // before; libgit2's check that each one exists reads an object header per entry,
        // a third of a workflow commit's time.
        loaded.git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
        return loaded;
    }();
    return api;
}

} // namespace

GitPreload::GitPreload()
    : thread_([] {
          try {
              lg();
          } catch (...) {
              // the first git call of the command loads it again and reports why it fails
          }
      }) {}

GitPreload::~GitPreload() {
    thread_.join();
}

CheckoutScan scan_checkout(const fs::path& dir) {
    CheckoutScan scan;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
        scan.repo = Repository::discover(dir);
        if (scan.repo) {
            scan.changes = scan.repo->changed_paths();
        }
    }
    return scan;
}

std::vector<std::optional<std::vector<std::string>>>
changed_paths_of(const std::vector<fs::path>& dirs) {
    std::vector<std::optional<std::vector<std::string>>> out(dirs.size());
    std::vector<std::exception_ptr> errors(dirs.size());
    std::atomic<std::size_t> next{0};
    const auto scan = [&] {
        for (std::size_t i = next++; i < dirs.size(); i = next++) {
            try {
                if (CheckoutScan scan = scan_checkout(dirs[i]); scan.repo) {
                    out[i] = std::move(scan.changes);
                }
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    lg(); // a library that cannot be loaded is reported from this thread
    {
        std::optional<std::jthread> second;
        if (dirs.size() > 1) {
            second.emplace(scan);
        }
        scan();
    }
    for (const std::exception_ptr& error : errors) {
        if (error) {
            std::rethrow_exception(error);
        }
    }
    return out;
}

} // namespace kitty

// libgit2 (built with mbedTLS, as Debian's is) parses the whole system CA bundle in
// git_libgit2_init, on every start of a tool that touches git, though kitty only ever does
// local git work. The tools export these two symbols (meson.build), so the libgit2 they load
// binds to them instead of mbedTLS's: the bundle is never read, and libgit2's TLS, which
// kitty never uses, has no trusted root, so it would refuse every server rather than trust
// one unverified. Weak: a tool that links mbedTLS's archive in (with libgit2's) keeps
// mbedTLS's own, and never sets libgit2's TLS up (tools/libgit2_network_stubs.cpp).
extern "C" __attribute__((weak)) int mbedtls_x509_crt_parse_file(void*, const char*) {
    return -0x2900; // MBEDTLS_ERR_X509_FILE_IO_ERROR
}
extern "C" __attribute__((weak)) int mbedtls_x509_crt_parse_path(void*, const char*) {
    return -0x2900;
}

namespace kitty {
namespace {

template <typename T, auto Free> struct Freer {
    void operator()(T* p) const { (lg().*Free)(p); }
};
using ReferencePtr =
    std::unique_ptr<git_reference, Freer<git_reference, &LibGit2::git_reference_free>>;
using ObjectPtr = std::unique_ptr<git_object, Freer<git_object, &LibGit2::git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, Freer<git_commit, &LibGit2::git_commit_free>>;
using WalkPtr = std::unique_ptr<git_revwalk, Freer<git_revwalk, &LibGit2::git_revwalk_free>>;
using WorktreePtr = std::unique_ptr<git_worktree, Freer<git_worktree, &LibGit2::git_worktree_free>>;
using IndexPtr = std::unique_ptr<git_index, Freer<git_index, &LibGit2::git_index_free>>;
using RepositoryPtr =
    std::unique_ptr<git_repository, Freer<git_repository, &LibGit2::git_repository_free>>;
using OdbPtr = std::unique_ptr<git_odb, Freer<git_odb, &LibGit2::git_odb_free>>;
using TreePtr = std::unique_ptr<git_tree, Freer<git_tree, &LibGit2::git_tree_free>>;
using ConfigPtr = std::unique_ptr<git_config, Freer<git_config, &LibGit2::git_config_free>>;
using ConfigEntryPtr =
    std::unique_ptr<git_config_entry, Freer<git_config_entry, &LibGit2::git_config_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, Freer<git_blob, &LibGit2::git_blob_free>>;
using SignaturePtr =
    std::unique_ptr<git_signature, Freer<git_signature, &LibGit2::git_signature_free>>;
using StatusListPtr =
    std::unique_ptr<git_status_list, Freer<git_status_list, &LibGit2::git_status_list_free>>;
using ConflictIteratorPtr =
    std::unique_ptr<git_index_conflict_iterator,
                    Freer<git_index_conflict_iterator, &LibGit2::git_index_conflict_iterator_free>>;

struct StrArray {
    git_strarray value{};
    ~StrArray() { lg().git_strarray_dispose(&value); }
};

std::string last_error() {
    const git_error* e = lg().git_error_last();
    return e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
}

// Turns a failed libgit2 call into an Error naming what was attempted.
void check(int rc, Exit exit, const std::string& code, const std::string& what) {
    if (rc == GIT_ELOCKED) {
        // libgit2 names the lock file in quotes; a lock whose owner died stays until removed.
        std::string message = last_error();
        while (message.ends_with(": ") || message.ends_with(":")) {
            message.erase(message.find_last_of(':'));
        }
        const std::size_t open = message.find('\'');
        const std::size_t close = open == std::string::npos ? open : message.find('\'', open + 1);
        Error error(Exit::temporary, "GIT_LOCKED", what + ": " + message,
                    "another git process holds the lock; retry when it is done. If none is "
                    "running, one died: remove the .lock file, then retry");
        if (close != std::string::npos) {
            error.at(message.substr(open + 1, close - open - 1));
        }
        throw error;
    }
    if (rc < 0) {
        throw Error(exit, code, what + ": " + last_error());
    }
}

std::string hex(const git_oid* id) {
    return lg().git_oid_tostr_s(id);
}

std::optional<git_oid> peel_to_commit(git_repository* repo, const std::string& revision) {
    git_object* raw = nullptr;
    if (lg().git_revparse_single(&raw, repo, revision.c_str()) != 0) {
        return std::nullopt;
    }
    const ObjectPtr object(raw);
    git_object* peeled = nullptr;
    if (lg().git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) != 0) {
        return std::nullopt;
    }
    const ObjectPtr commit(peeled);
    return *lg().git_object_id(commit.get());
}

// The identity git is configured with (user.name, user.email), for commits kitty makes.
SignaturePtr default_signature(git_repository* repo) {
    git_signature* raw = nullptr;
    if (lg().git_signature_default(&raw, repo) != 0) {
        throw Error(Exit::input, "GIT_IDENTITY_MISSING",
                    "git has no identity to commit with: " + last_error(),
                    "set one: git config user.name 'Your Name' && git config user.email "
                    "you@example.com");
    }
    return SignaturePtr(raw);
}

CommitPtr lookup_commit(git_repository* repo, const git_oid& id) {
    git_commit* raw = nullptr;
    check(lg().git_commit_lookup(&raw, repo, &id), Exit::input, "GIT_ERROR",
          std::string("cannot read commit ") + hex(&id));
    return CommitPtr(raw);
}

git_oid require_commit(git_repository* repo, const std::string& revision) {
    const auto id = peel_to_commit(repo, revision);
    if (!id) {
        throw Error(Exit::input, "UNKNOWN_REVISION", "no commit named " + revision,
                    "name an existing branch or commit");
    }
    return *id;
}

// The paths of the status entries `show` selects, untracked files included and ignored ones
// not; without rename detection a rename lists both of its paths, as both changed.
// `within`, when not empty, limits the walk to those paths (a directory covers what is below
// it; literal, no wildcards), so a query about a few files does not scan the whole tree.
std::set<std::string> status_paths(git_repository* repo, git_status_show_t show,
                                   const std::vector<std::string>& within = {}) {
    git_status_options options;
    lg().git_status_options_init(&options, GIT_STATUS_OPTIONS_VERSION);
    options.show = show;
    options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
    std::vector<char*> specs;
    for (const std::string& path : within) {
        specs.push_back(const_cast<char*>(path.c_str()));
    }
    if (!specs.empty()) {
        options.flags |= GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
        options.pathspec = {specs.data(), specs.size()};
    }
    git_status_list* raw = nullptr;
    // A file another process is writing at that moment (an event appended, a temporary
    // renamed away) fails libgit2's hashing; the scan is made again once it has settled.
    int rc = lg().git_status_list_new(&raw, repo, &options);
    for (int pause = 1; rc != 0 && pause <= 64; pause *= 2) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause));
        rc = lg().git_status_list_new(&raw, repo, &options);
    }
    check(rc, Exit::input, "GIT_ERROR", "cannot read the status of the work tree");
    const StatusListPtr list(raw);
    std::set<std::string> paths;
    const auto add = [&paths](const git_diff_delta* delta) {
        if (delta == nullptr) {
            return;
        }
        for (const char* path : {delta->old_file.path, delta->new_file.path}) {
            if (path != nullptr) {
                paths.insert(path);
            }
        }
    };
    const std::size_t count = lg().git_status_list_entrycount(list.get());
    for (std::size_t i = 0; i < count; ++i) {
        const git_status_entry* entry = lg().git_status_byindex(list.get(), i);
        add(entry->head_to_index);
        add(entry->index_to_workdir);
    }
    return paths;
}

// Whether `ancestor` is `descendant` or one of its ancestors.
bool contains(git_repository* repo, const git_oid& descendant, const git_oid& ancestor) {
    if (lg().git_oid_equal(&descendant, &ancestor) != 0) {
        return true;
    }
    const int rc = lg().git_graph_descendant_of(repo, &descendant, &ancestor);
    check(rc, Exit::input, "GIT_ERROR", "cannot walk the history of " + hex(&descendant));
    return rc == 1;
}

// The conflicts of a merge's index, each under its path on our side (else theirs, else the
// ancestor's), sorted by path.
std::vector<MergeConflict> index_conflicts(git_index* index) {
    git_index_conflict_iterator* raw = nullptr;
    check(lg().git_index_conflict_iterator_new(&raw, index), Exit::internal, "GIT_ERROR",
          "cannot list the merge conflicts");
    const ConflictIteratorPtr it(raw);
    std::map<std::string, MergeConflict::Kind> found;
    const git_index_entry* ancestor = nullptr;
    const git_index_entry* ours = nullptr;
    const git_index_entry* theirs = nullptr;
    while (lg().git_index_conflict_next(&ancestor, &ours, &theirs, it.get()) == 0) {
        std::set<std::string_view> names;
        const git_index_entry* named = nullptr;
        for (const git_index_entry* entry : {ours, theirs, ancestor}) {
            if (entry != nullptr) {
                names.insert(entry->path);
                named = named != nullptr ? named : entry;
            }
        }
        if (named == nullptr) {
            continue;
        }
        using Kind = MergeConflict::Kind;
        const Kind kind = names.size() > 1                       ? Kind::rename
                          : ancestor == nullptr                  ? Kind::add_add
                          : ours == nullptr || theirs == nullptr ? Kind::modify_delete
                                                                 : Kind::content;
        found.emplace(named->path, kind);
    }
    std::vector<MergeConflict> out;
    for (const auto& [path, kind] : found) {
        out.push_back({path, kind});
    }
    return out;
}

std::vector<std::string> conflicting_paths(git_index* index) {
    std::vector<std::string> paths;
    for (const MergeConflict& c : index_conflicts(index)) {
        paths.push_back(c.path);
    }
    return paths;
}

// Where add_worktree checks a worktree out before renaming it to `path`.
fs::path staging_path(const fs::path& path) {
    return path.parent_path() / ("." + path.filename().string() + ".incomplete");
}

std::string read_small_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The local config file alone: neither the user's nor the system's config is read, so
// neither can fail or answer for it.
ConfigPtr open_config_file(const fs::path& file) {
    git_config* raw = nullptr;
    check(lg().git_config_open_ondisk(&raw, file.c_str()), Exit::input, "GIT_ERROR",
          "cannot read " + file.string());
    return ConfigPtr(raw);
}

// The functions registered with register_merge_driver, by driver name.
struct MergeDrivers {
    std::mutex mutex;
    std::map<std::string, MergeDriver> functions;
    DefaultMergeDriver fallback; // for paths no gitattributes line names
};

MergeDrivers& merge_drivers() {
    static MergeDrivers drivers;
    return drivers;
}

// Why each driver that was asked during the running merge of this thread left its file
// conflicted; merged_tree reports them under MERGE_CONFLICT.
thread_local std::vector<std::string> merge_driver_failures;

std::string blob_text(git_repository* repo, const git_index_entry* entry) {
    if (entry == nullptr) {
        return {}; // the side has no such file: added on both sides, or deleted
    }
    git_blob* raw = nullptr;
    check(lg().git_blob_lookup(&raw, repo, &entry->id), Exit::input, "GIT_ERROR",
          std::string("cannot read the blob of ") + entry->path);
    const BlobPtr blob(raw);
    return {static_cast<const char*>(lg().git_blob_rawcontent(blob.get())),
            static_cast<std::size_t>(lg().git_blob_rawsize(blob.get()))};
}

// The path and mode of the merged file as libgit2's own text driver picks them
// (git_merge_file__best_path/best_mode, which libgit2 does not export): the side that
// changed it; nullopt for a path renamed differently on each side.
std::optional<std::pair<const char*, std::uint32_t>> merged_entry(const git_index_entry* base,
                                                                  const git_index_entry* ours,
                                                                  const git_index_entry* theirs) {
    if (ours == nullptr || theirs == nullptr) {
        return std::nullopt;
    }
    const std::string_view our_path = ours->path, their_path = theirs->path;
    if (base == nullptr) {
        if (our_path != their_path) {
            return std::nullopt;
        }
        const bool executable = ours->mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
                                theirs->mode == GIT_FILEMODE_BLOB_EXECUTABLE;
        return std::pair{ours->path, executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB};
    }
    const char* path = base->path == our_path     ? theirs->path
                       : base->path == their_path ? ours->path
                                                  : nullptr;
    if (path == nullptr) {
        return std::nullopt;
    }
    return std::pair{path, base->mode == ours->mode ? theirs->mode : ours->mode};
}

constexpr const char* kDefaultMergeDriverName = "kitty-default";

// The driver name for git_merge_options.default_driver: kitty's once it is registered.
const char* default_merge_driver() {
    MergeDrivers& drivers = merge_drivers();
    const std::lock_guard lock(drivers.mutex);
    return drivers.fallback ? kDefaultMergeDriverName : nullptr;
}

// The C side of every registered driver. Nothing may unwind through libgit2: any exception
// leaves the file conflicted, as a driver's nullopt does.
int apply_merge_driver(git_merge_driver* /*self*/, const char** path_out, std::uint32_t* mode_out,
                       git_buf* merged_out, const char* name,
                       const git_merge_driver_source* source) noexcept {
    const LibGit2& git = lg();
    const git_index_entry* base = git.git_merge_driver_source_ancestor(source);
    const git_index_entry* ours = git.git_merge_driver_source_ours(source);
    const git_index_entry* theirs = git.git_merge_driver_source_theirs(source);
    try {
        MergeDriver merge;
        DefaultMergeDriver fallback;
        {
            MergeDrivers& drivers = merge_drivers();
            const std::lock_guard lock(drivers.mutex);
            if (std::string_view(name) == kDefaultMergeDriverName) {
                fallback = drivers.fallback;
            } else {
                merge = drivers.functions.at(name);
            }
        }
        const auto entry = merged_entry(base, ours, theirs);
        if (!entry) {
            return fallback ? GIT_PASSTHROUGH : GIT_EMERGECONFLICT;
        }
        git_repository* repo = git.git_merge_driver_source_repo(source);
        std::optional<std::string> merged;
        if (fallback) {
            const PathMerge verdict = fallback(entry->first, blob_text(repo, base),
                                               blob_text(repo, ours), blob_text(repo, theirs));
            if (!verdict.handled) {
                return GIT_PASSTHROUGH; // git's text merge, as without a driver
            }
            merged = verdict.merged;
        } else {
            merged = merge(blob_text(repo, base), blob_text(repo, ours), blob_text(repo, theirs));
        }
        if (!merged) {
            return GIT_EMERGECONFLICT;
        }
        const int rc = git.git_buf_set(merged_out, merged->data(), merged->size());
        if (rc < 0) {
            return rc;
        }
        *path_out = entry->first;
        *mode_out = entry->second;
        return 0;
    } catch (const std::exception& e) {
        try {
            merge_driver_failures.push_back(std::string(ours != nullptr ? ours->path : "?") + ": " +
                                            e.what());
        } catch (...) {
            // No memory to say why: the file is conflicted all the same.
        }
        return GIT_EMERGECONFLICT;
    } catch (...) {
        return GIT_EMERGECONFLICT;
    }
}

// The tree of a three-way merge of two commits (their merge base is the base), written to
// the object database. Conflicts are Error(Exit::check_failed, "MERGE_CONFLICT") listing the
// paths; `what` ("combine x with y") names the merge in messages.
// The index of a three-way merge of two commits, conflicts and all; nothing is written but
// the merged blobs.
IndexPtr merge_index(git_repository* repo, git_commit* ours, git_commit* theirs,
                     const std::string& what) {
    git_index* raw_index = nullptr;
    merge_driver_failures.clear();
    git_merge_options options;
    lg().git_merge_options_init(&options, GIT_MERGE_OPTIONS_VERSION);
    options.default_driver = default_merge_driver();
    check(lg().git_merge_commits(&raw_index, repo, ours, theirs, &options), Exit::input,
          "GIT_ERROR", "cannot " + what);
    return IndexPtr(raw_index);
}

TreePtr index_tree(git_repository* repo, git_index* index) {
    git_oid tree_id;
    check(lg().git_index_write_tree_to(&tree_id, index, repo), Exit::input, "GIT_ERROR",
          "cannot write the merged tree");
    git_tree* raw_tree = nullptr;
    check(lg().git_tree_lookup(&raw_tree, repo, &tree_id), Exit::input, "GIT_ERROR",
          "cannot read the merged tree");
    return TreePtr(raw_tree);
}

TreePtr merged_tree(git_repository* repo, git_commit* ours, git_commit* theirs,
                    const std::string& what) {
    const IndexPtr index = merge_index(repo, ours, theirs, what);
    if (lg().git_index_has_conflicts(index.get()) != 0) {
        const std::vector<std::string> paths = conflicting_paths(index.get());
        const std::string listed = join(paths);
        throw Error(Exit::check_failed, "MERGE_CONFLICT",
                    "cannot " + what + ": both change " + listed,
                    "merge them by hand and resolve the conflicts, then retry")
            .with(nlohmann::ordered_json{{"conflicting_paths", paths}},
                  std::exchange(merge_driver_failures, {}));
    }
    return index_tree(repo, index.get());
}

IndexPtr repository_index(git_repository* repo) {
    git_index* raw = nullptr;
    check(lg().git_repository_index(&raw, repo), Exit::input, "GIT_ERROR", "cannot open the index");
    return IndexPtr(raw);
}

// Writes `index` to disk. libgit2's lock message does not name the file, so a lock is
// reported with its path here.
void write_index(git_repository* repo, git_index* index) {
    const int rc = lg().git_index_write(index);
    if (rc == GIT_ELOCKED) {
        const fs::path lock = fs::path(lg().git_repository_path(repo)) / "index.lock";
        throw Error(Exit::temporary, "GIT_LOCKED", "git's index is locked (" + lock.string() + ")",
                    "another git process is writing it; retry when it is done. If none is "
                    "running, one died: remove the index.lock file, then retry")
            .at(lock);
    }
    check(rc, Exit::input, "GIT_ERROR", "cannot write the index");
}

// Writes `index` to disk and its tree to the object database; returns the tree.
TreePtr write_index_tree(git_repository* repo, git_index* index) {
    write_index(repo, index);
    git_oid tree_id;
    check(lg().git_index_write_tree(&tree_id, index), Exit::input, "GIT_ERROR",
          "cannot write the tree");
    git_tree* raw_tree = nullptr;
    check(lg().git_tree_lookup(&raw_tree, repo, &tree_id), Exit::input, "GIT_ERROR",
          "cannot read the tree");
    return TreePtr(raw_tree);
}

// A file (or submodule) that differs between two trees: absent on a side that lacks it.
struct TreeChange {
    std::string path;
    std::optional<git_oid> old_id, new_id;
    std::uint32_t new_mode = 0;
};

// The entries of `tree` under their names in git's tree order, a subtree's name with a
// trailing '/' (so a file and a directory of one name are different entries).
std::vector<std::pair<std::string, const git_tree_entry*>> ordered_entries(const git_tree* tree) {
    std::vector<std::pair<std::string, const git_tree_entry*>> out;
    const std::size_t count = tree ? lg().git_tree_entrycount(tree) : 0;
    for (std::size_t i = 0; i < count; ++i) {
        const git_tree_entry* e = lg().git_tree_entry_byindex(tree, i);
        const bool dir = lg().git_tree_entry_filemode(e) == GIT_FILEMODE_TREE;
        out.emplace_back(std::string(lg().git_tree_entry_name(e)) + (dir ? "/" : ""), e);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    return out;
}

TreePtr entry_tree(git_repository* repo, const git_tree_entry* e) {
    git_tree* raw = nullptr;
    check(lg().git_tree_lookup(&raw, repo, lg().git_tree_entry_id(e)), Exit::input, "GIT_ERROR",
          "cannot read a tree");
    return TreePtr(raw);
}

// The files that differ between trees `a` and `b` (either may be null: empty), in path
// order, as libgit2's tree diff without rename or type-change detection lists them; a
// subtree with the same id on both sides is not read at all, where libgit2's diff reads
// every subtree of both.
void tree_changes(git_repository* repo, const git_tree* a, const git_tree* b,
                  const std::string& prefix, std::vector<TreeChange>& out) {
    const auto as = ordered_entries(a);
    const auto bs = ordered_entries(b);
    std::size_t i = 0, j = 0;
    while (i < as.size() || j < bs.size()) {
        const int order = i == as.size()   ? 1
                          : j == bs.size() ? -1
                                           : as[i].first.compare(bs[j].first);
        const git_tree_entry* old_e = order <= 0 ? as[i].second : nullptr;
        const git_tree_entry* new_e = order >= 0 ? bs[j].second : nullptr;
        const std::string& key = order <= 0 ? as[i].first : bs[j].first;
        i += order <= 0 ? 1 : 0;
        j += order >= 0 ? 1 : 0;
        if (old_e && new_e &&
            lg().git_oid_equal(lg().git_tree_entry_id(old_e), lg().git_tree_entry_id(new_e)) &&
            lg().git_tree_entry_filemode(old_e) == lg().git_tree_entry_filemode(new_e)) {
            continue;
        }
        if (key.ends_with('/')) {
            const TreePtr old_tree = old_e ? entry_tree(repo, old_e) : nullptr;
            const TreePtr new_tree = new_e ? entry_tree(repo, new_e) : nullptr;
            tree_changes(repo, old_tree.get(), new_tree.get(), prefix + key, out);
            continue;
        }
        TreeChange change{prefix + key, std::nullopt, std::nullopt, 0};
        if (old_e) {
            change.old_id = *lg().git_tree_entry_id(old_e);
        }
        if (new_e) {
            change.new_id = *lg().git_tree_entry_id(new_e);
            change.new_mode = lg().git_tree_entry_filemode(new_e);
        }
        out.push_back(std::move(change));
    }
}

std::vector<TreeChange> tree_changes(git_repository* repo, const git_tree* a, const git_tree* b) {
    std::vector<TreeChange> out;
    tree_changes(repo, a, b, "", out);
    return out;
}

// Adds an object store in memory to `odb`, above the loose (1) and packed (2) stores, so
// every write lands there; the object database owns it from now on and frees it, with its
// objects, when the handle goes.
void add_memory_store(git_odb* odb) {
    git_odb_backend* memory = nullptr;
    check(lg().git_mempack_new(&memory), Exit::internal, "GIT_ERROR",
          "cannot make an in-memory object store");
    check(lg().git_odb_add_backend(odb, memory, 999), Exit::internal, "GIT_ERROR",
          "cannot add the in-memory object store");
}

TreePtr commit_tree(const git_commit* commit) {
    git_tree* raw = nullptr;
    check(lg().git_commit_tree(&raw, commit), Exit::input, "GIT_ERROR",
          "cannot read a commit's tree");
    return TreePtr(raw);
}

} // namespace

// What `git worktree move` rewrites: the metadata's record of the worktree's .git file.
void Repository::point_worktree_at(const std::string& name, const fs::path& path) {
    write_file_atomic(common_dir() / "worktrees" / name / "gitdir",
                      (path / ".git").string() + "\n");
}

std::optional<Repository> Repository::discover(const fs::path& dir) {
    git_repository* repo = nullptr;
    if (lg().git_repository_open_ext(&repo, dir.c_str(), 0, nullptr) != 0) {
        return std::nullopt;
    }
    return Repository(repo);
}

Repository Repository::open(const fs::path& dir) {
    if (auto repo = discover(dir)) {
        return std::move(*repo);
    }
    throw Error(Exit::input, "NOT_A_GIT_REPOSITORY", "not in a git repository: " + dir.string(),
                "run inside the project's git checkout (git init makes one)")
        .at(dir);
}

Repository Repository::with_objects_in_memory() const {
    const std::optional<fs::path> dir = work_dir();
    Repository scratch = open(dir ? *dir : fs::path(lg().git_repository_path(repo_)));
    git_odb* raw_odb = nullptr;
    check(lg().git_repository_odb(&raw_odb, scratch.repo_), Exit::internal, "GIT_ERROR",
          "cannot open the object database");
    add_memory_store(OdbPtr(raw_odb).get());
    return scratch;
}

Repository::Repository(Repository&& other) noexcept : repo_(other.repo_) {
    other.repo_ = nullptr;
}

Repository& Repository::operator=(Repository&& other) noexcept {
    std::swap(repo_, other.repo_);
    return *this;
}

Repository::~Repository() {
    if (repo_ != nullptr) {
        lg().git_repository_free(repo_);
    }
}

std::optional<fs::path> Repository::work_dir() const {
    const char* dir = lg().git_repository_workdir(repo_);
    if (dir == nullptr) {
        return std::nullopt;
    }
    return fs::path(dir).lexically_normal();
}

fs::path Repository::common_dir() const {
    return fs::path(lg().git_repository_commondir(repo_)).lexically_normal();
}

bool Repository::has_remotes() const {
    git_strarray names{};
    check(lg().git_remote_list(&names, repo_), Exit::input, "GIT_ERROR", "cannot list the remotes");
    const bool any = names.count > 0;
    lg().git_strarray_dispose(&names);
    return any;
}

std::optional<std::string> Repository::current_branch() const {
    git_reference* raw = nullptr;
    if (lg().git_reference_lookup(&raw, repo_, "HEAD") != 0) {
        return std::nullopt;
    }
    const ReferencePtr head(raw);
    if (lg().git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) {
        return std::nullopt;
    }
    const std::string target = lg().git_reference_symbolic_target(head.get());
    constexpr std::string_view heads = "refs/heads/";
    if (!target.starts_with(heads)) {
        return std::nullopt;
    }
    return target.substr(heads.size());
}

std::optional<std::string> Repository::resolve_commit(const std::string& revision) const {
    const auto id = peel_to_commit(repo_, revision);
    return id ? std::optional(hex(&*id)) : std::nullopt;
}

bool Repository::branch_exists(const std::string& branch) const {
    git_reference* raw = nullptr;
    if (lg().git_branch_lookup(&raw, repo_, branch.c_str(), GIT_BRANCH_LOCAL) != 0) {
        return false;
    }
    ReferencePtr{raw};
    return true;
}

std::vector<std::string> Repository::branches(const std::string& prefix) const {
    git_branch_iterator* raw = nullptr;
    check(lg().git_branch_iterator_new(&raw, repo_, GIT_BRANCH_LOCAL), Exit::input, "GIT_ERROR",
          "cannot list branches");
    const std::unique_ptr<git_branch_iterator,
                          Freer<git_branch_iterator, &LibGit2::git_branch_iterator_free>>
        it(raw);
    std::vector<std::string> out;
    git_reference* ref = nullptr;
    git_branch_t type{};
    while (lg().git_branch_next(&ref, &type, it.get()) == 0) {
        const ReferencePtr owned(ref);
        const char* name = nullptr;
        if (lg().git_branch_name(&name, owned.get()) == 0 &&
            std::string_view(name).starts_with(prefix)) {
            out.emplace_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void Repository::create_branch(const std::string& branch, const std::string& revision) {
    if (branch_exists(branch)) {
        throw Error(Exit::conflict, "BRANCH_EXISTS", "branch " + branch + " already exists",
                    "use the existing branch or delete it first");
    }
    const auto id = peel_to_commit(repo_, revision);
    if (!id) {
        throw Error(Exit::input, "UNKNOWN_REVISION",
                    "cannot create branch " + branch + ": no commit named " + revision,
                    "name an existing branch or commit");
    }
    git_commit* raw = nullptr;
    check(lg().git_commit_lookup(&raw, repo_, &*id), Exit::input, "UNKNOWN_REVISION",
          "cannot read commit " + revision);
    const CommitPtr commit(raw);
    git_reference* created = nullptr;
    check(lg().git_branch_create(&created, repo_, branch.c_str(), commit.get(), 0), Exit::input,
          "GIT_ERROR", "cannot create branch " + branch);
    ReferencePtr{created};
}

void Repository::delete_branch(const std::string& branch) {
    git_reference* raw = nullptr;
    check(lg().git_branch_lookup(&raw, repo_, branch.c_str(), GIT_BRANCH_LOCAL), Exit::input,
          "BRANCH_NOT_FOUND", "no branch " + branch);
    const ReferencePtr ref(raw);
    check(lg().git_branch_delete(ref.get()), Exit::conflict, "GIT_ERROR",
          "cannot delete branch " + branch);
}

std::vector<Worktree> Repository::worktrees() const {
    StrArray names;
    check(lg().git_worktree_list(&names.value, repo_), Exit::input, "GIT_ERROR",
          "cannot list worktrees");
    std::vector<Worktree> out;
    for (std::size_t i = 0; i < names.value.count; ++i) {
        git_worktree* raw = nullptr;
        if (lg().git_worktree_lookup(&raw, repo_, names.value.strings[i]) != 0) {
            continue;
        }
        const WorktreePtr wt(raw);
        out.push_back({names.value.strings[i], fs::path(lg().git_worktree_path(wt.get())),
                       lg().git_worktree_validate(wt.get()) == 0});
    }
    std::sort(out.begin(), out.end(),
              [](const Worktree& a, const Worktree& b) { return a.name < b.name; });
    return out;
}

void Repository::add_worktree(const std::string& name, const fs::path& path,
                              const std::string& branch) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec))) {
        throw Error(Exit::conflict, "WORKTREE_PATH_EXISTS",
                    "cannot add worktree " + name + ": " + path.string() + " already exists",
                    "remove it or reuse the existing worktree")
            .at(path);
    }
    git_reference* raw = nullptr;
    check(lg().git_branch_lookup(&raw, repo_, branch.c_str(), GIT_BRANCH_LOCAL), Exit::input,
          "BRANCH_NOT_FOUND", "cannot add worktree " + name + ": no branch " + branch);
    const ReferencePtr ref(raw);
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
        throw system_error(Exit::input, "cannot create directory", path.parent_path(), ec.value());
    }
    finish_interrupted_worktree(name, path);
    const fs::path staging = staging_path(path);
    git_worktree_add_options options;
    lg().git_worktree_add_options_init(&options, GIT_WORKTREE_ADD_OPTIONS_VERSION);
    options.ref = ref.get();
    git_worktree* added = nullptr;
    check(lg().git_worktree_add(&added, repo_, name.c_str(), staging.c_str(), &options),
          Exit::conflict, "GIT_ERROR", "cannot add worktree " + name + " at " + path.string());
    WorktreePtr{added};
    fs::rename(staging, path, ec);
    if (ec) {
        throw system_error(Exit::input, "cannot move the new worktree into place", path,
                           ec.value());
    }
    point_worktree_at(name, path);
}

void Repository::finish_interrupted_worktree(const std::string& name, const fs::path& path) {
    const fs::path metadata = common_dir() / "worktrees" / name;
    const fs::path staging = staging_path(path);
    std::error_code ec;
    if (!fs::is_directory(metadata, ec)) {
        fs::remove_all(staging, ec);
        return;
    }
    // The metadata is written before the checkout: a gitdir missing, empty (libgit2 killed
    // while it wrote the file) or naming the staging directory is an add_worktree that did
    // not finish.
    std::string recorded;
    if (fs::is_regular_file(metadata / "gitdir", ec)) {
        recorded = read_small_file(metadata / "gitdir");
        while (!recorded.empty() && (recorded.back() == '\n' || recorded.back() == '\r')) {
            recorded.pop_back();
        }
        if (!recorded.empty() && fs::path(recorded).parent_path() != staging) {
            return;
        }
    }
    if (!recorded.empty() && fs::is_regular_file(path / ".git", ec)) {
        point_worktree_at(name, path);
        return;
    }
    fs::remove_all(staging, ec);
    fs::remove_all(metadata, ec);
}

void Repository::remove_worktree(const std::string& name) {
    git_worktree* raw = nullptr;
    check(lg().git_worktree_lookup(&raw, repo_, name.c_str()), Exit::input, "WORKTREE_NOT_FOUND",
          "no worktree " + name);
    const WorktreePtr wt(raw);
    git_worktree_prune_options options;
    lg().git_worktree_prune_options_init(&options, GIT_WORKTREE_PRUNE_OPTIONS_VERSION);
    options.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_WORKING_TREE;
    check(lg().git_worktree_prune(wt.get(), &options), Exit::conflict, "GIT_ERROR",
          "cannot remove worktree " + name);
}

void Repository::require_identity() const {
    default_signature(repo_);
}

// A kitty process killed while it held index.lock would leave every later commit refused,
// as a killed git does. Before kitty takes the lock it records its pid beside it
// (<lock>.kitty). A lock is kitty's and stale when that owner is dead, the lock was made
// after the record and the index was not written since the record (a record orphaned by a
// kill after the index was replaced never claims a later lock of git's). Only such a lock
// is removed.
bool is_dead_kitty_lock(const fs::path& lock) {
    const fs::path owner = fs::path(lock.string() + ".kitty");
    const std::string& name = lock.string();
    const fs::path index = name.substr(0, name.size() - 5); // the file the lock guards
    std::ifstream in(owner);
    long long pid = 0;
    struct stat record {
    }, held{}, written{};
    if (!(in >> pid) || pid <= 0 || ::stat(owner.c_str(), &record) != 0 ||
        ::lstat(lock.c_str(), &held) != 0) {
        return false;
    }
    const auto ns = [](const struct timespec& t) {
        return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec;
    };
    const bool index_written_since =
        ::stat(index.c_str(), &written) == 0 && ns(written.st_mtim) >= ns(record.st_mtim);
    if (ns(held.st_mtim) < ns(record.st_mtim) || index_written_since ||
        ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) {
        return false;
    }
    return true;
}

bool remove_dead_kitty_lock(const fs::path& lock) {
    if (!is_dead_kitty_lock(lock)) {
        return false;
    }
    const fs::path owner = fs::path(lock.string() + ".kitty");
    std::error_code ec;
    fs::remove(fs::path(lock.string() + ".lock"), ec); // libgit2's, while it wrote the lock
    fs::remove(lock, ec);
    fs::remove(owner, ec);
    return true;
}

// git's lock protocol for the index, held from the read to the write: index.lock is created
// exclusively (a concurrent `git add` waits or fails, never lost), filled with the current
// index, changed for `entries` only (an entry with the blob and the file's stat, or none to
// remove the path), and renamed over the index.
static void update_index_entries(
    git_repository* repo_,
    const std::vector<std::pair<std::string, std::optional<git_index_entry>>>& entries) {
    const fs::path git_dir = lg().git_repository_path(repo_);
    const fs::path index_file = git_dir / "index";
    const fs::path lock = git_dir / "index.lock";
    const fs::path owner = git_dir / "index.lock.kitty";
    std::ofstream(owner, std::ios::trunc) << ::getpid() << "\n"; // a torn record claims nothing
    int fd = -1;
    // The commit is made already: giving up here would leave the index behind HEAD for these
    // paths, so a person's git (which holds the lock for a whole commit) is waited for
    // longer than a kitty lock, about ten seconds.
    int waited_ms = 0;
    for (int pause = 1;
         (fd = ::open(lock.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0;
         waited_ms += pause, pause = std::min(pause * 2, 200)) {
        // Saved at once: looking for a dead kitty's lock reads files and clobbers errno.
        const int open_error = errno;
        if (open_error == EEXIST && remove_dead_kitty_lock(lock)) {
            continue;
        }
        if (open_error != EEXIST || waited_ms > 10000) {
            throw Error(Exit::temporary, "GIT_LOCKED", "git's lock " + lock.string() + " exists",
                        "another git process holds it; retry when it is done. If none is "
                        "running, one died: remove the .lock file, then retry")
                .at(lock);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    }
    struct Unlock {
        fs::path lock, owner;
        bool armed = true;
        ~Unlock() {
            std::error_code ec;
            if (armed) {
                fs::remove(lock, ec);
            }
            fs::remove(owner, ec);
        }
    } unlock{lock, owner};
    std::error_code ec;
    // With no index yet (a repository's first commit), git's empty index: the header (version
    // 2, no entries) and its SHA-1.
    static constexpr unsigned char kEmptyIndex[] = {'D',  'I',  'R',  'C',  0,    0,    0,    2,
                                                    0,    0,    0,    0,    0x39, 0xd8, 0x90, 0x13,
                                                    0x9e, 0xe5, 0x35, 0x6c, 0x7e, 0xf5, 0x72, 0x21,
                                                    0x6c, 0xeb, 0xcd, 0x27, 0xaa, 0x41, 0xf9, 0xdf};
    const std::string current =
        fs::exists(index_file, ec)
            ? read_file_bytes(index_file)
            : std::string(reinterpret_cast<const char*>(kEmptyIndex), sizeof kEmptyIndex);
    const bool written =
        ::write(fd, current.data(), current.size()) == static_cast<ssize_t>(current.size());
    ::close(fd);
    if (!written) {
        throw system_error(Exit::input, "cannot write", lock, errno);
    }
    git_index* raw = nullptr;
    check(lg().git_index_open(&raw, lock.c_str()), Exit::input, "GIT_ERROR",
          "cannot read the index");
    const IndexPtr index(raw);
    for (const auto& [path, entry] : entries) {
        if (!entry) {
            lg().git_index_remove_bypath(index.get(), path.c_str());
            continue;
        }
        git_index_entry e = *entry;
        e.path = path.c_str();
        check(lg().git_index_add(index.get(), &e), Exit::input, "GIT_ERROR",
              "cannot stage " + path);
    }
    // Written to index.lock (through index.lock.lock, which only a holder of index.lock
    // makes: one there now is a killed holder's), then put in place.
    fs::remove(fs::path(lock.string() + ".lock"), ec);
    check(lg().git_index_write(index.get()), Exit::input, "GIT_ERROR", "cannot write the index");
    if (::rename(lock.c_str(), index_file.c_str()) != 0) {
        throw system_error(Exit::input, "cannot replace", index_file, errno);
    }
    unlock.armed = false;
}

bool Repository::index_locked() const {
    const fs::path lock = fs::path(lg().git_repository_path(repo_)) / "index.lock";
    // Up to about a second for a holder to finish (or a killed one to be gone).
    for (int pause = 1; pause <= 512; pause *= 2) {
        std::error_code ec;
        if (!fs::exists(lock, ec) || remove_dead_kitty_lock(lock)) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    }
    return true;
}

std::string Repository::commit_own_paths(const std::vector<fs::path>& paths,
                                         const std::string& message) {
    const SignaturePtr signature = default_signature(repo_);
    const auto root = work_dir();
    if (!root) {
        throw Error(Exit::input, "BARE_REPOSITORY", "cannot commit in a bare repository");
    }
    git_odb* raw_odb = nullptr;
    check(lg().git_repository_odb(&raw_odb, repo_), Exit::input, "GIT_ERROR",
          "cannot open the object database");
    const OdbPtr odb(raw_odb);
    for (int attempt = 0;; ++attempt) {
        CommitPtr parent;
        TreePtr parent_tree;
        if (const auto head = peel_to_commit(repo_, "HEAD")) {
            git_commit* raw_parent = nullptr;
            check(lg().git_commit_lookup(&raw_parent, repo_, &*head), Exit::input, "GIT_ERROR",
                  "cannot read HEAD");
            parent.reset(raw_parent);
            parent_tree = commit_tree(parent.get());
        }
        // HEAD's tree with `paths` as they are on disk: only the trees on those paths are
        // rewritten (the rest of HEAD's tree is never read), and the user's index and whatever
        // is staged in it stay out of the commit.
        std::vector<std::pair<std::string, std::optional<git_index_entry>>> ours;
        std::set<std::string> seen;
        for (const fs::path& rel : paths) {
            const std::string path = rel.generic_string();
            if (!seen.insert(path).second) {
                continue;
            }
            const fs::path file = *root / rel;
            struct stat before {};
            if (::lstat(file.c_str(), &before) != 0 || !S_ISREG(before.st_mode)) {
                ours.emplace_back(path, std::nullopt);
                continue;
            }
            // Read whole by us, not by libgit2, which fails on a file another process appends
            // to meanwhile; a JSON-lines file is taken up to its last complete line.
            std::string bytes = read_file_bytes(file);
            if (path.ends_with(".jsonl")) {
                bytes.resize(bytes.rfind('\n') == std::string::npos ? 0 : bytes.rfind('\n') + 1);
            }
            struct stat after {};
            const bool steady = ::lstat(file.c_str(), &after) == 0 &&
                                after.st_size == static_cast<off_t>(bytes.size()) &&
                                after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
                                after.st_mtim.tv_nsec == before.st_mtim.tv_nsec;
            git_index_entry entry{};
            entry.mode =
                (before.st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
            // Hashed before it is compressed: most of these files are as committed already
            // (tasks.md, status.json), and an object the store has is not written again.
            check(lg().git_odb_write(&entry.id, odb.get(), bytes.data(), bytes.size(),
                                     GIT_OBJECT_BLOB),
                  Exit::input, "GIT_ERROR", "cannot store " + path);
            // The index gets the stat of the content committed; when the file changed while it
            // was read, no stat (git then compares the content).
            if (steady) {
                entry.ctime = {static_cast<int32_t>(before.st_ctim.tv_sec),
                               static_cast<uint32_t>(before.st_ctim.tv_nsec)};
                entry.mtime = {static_cast<int32_t>(before.st_mtim.tv_sec),
                               static_cast<uint32_t>(before.st_mtim.tv_nsec)};
                entry.dev = static_cast<uint32_t>(before.st_dev);
                entry.ino = static_cast<uint32_t>(before.st_ino);
                entry.uid = before.st_uid;
                entry.gid = before.st_gid;
                entry.file_size = static_cast<uint32_t>(before.st_size);
            }
            ours.emplace_back(path, entry);
        }
        std::vector<git_tree_update> updates;
        for (const auto& [path, entry] : ours) {
            git_tree_update u{};
            u.path = path.c_str();
            if (entry) {
                u.action = GIT_TREE_UPDATE_UPSERT;
                u.id = entry->id;
                u.filemode = static_cast<git_filemode_t>(entry->mode);
            } else {
                // Only a file the tree has is removed (libgit2 refuses the rest), never a
                // directory of that name.
                git_tree_entry* found = nullptr;
                if (!parent_tree ||
                    lg().git_tree_entry_bypath(&found, parent_tree.get(), u.path) != 0) {
                    continue;
                }
                const bool file = lg().git_tree_entry_filemode(found) != GIT_FILEMODE_TREE;
                lg().git_tree_entry_free(found);
                if (!file) {
                    continue;
                }
                u.action = GIT_TREE_UPDATE_REMOVE;
            }
            updates.push_back(u);
        }
        git_oid tree_id;
        check(lg().git_tree_create_updated(&tree_id, repo_, parent_tree.get(), updates.size(),
                                           updates.data()),
              Exit::input, "GIT_ERROR", "cannot write the tree");
        if (parent_tree && lg().git_oid_equal(&tree_id, lg().git_tree_id(parent_tree.get()))) {
            // Nothing to commit; the index may still lag (a commit killed before its index
            // update), so it follows HEAD for these paths all the same.
            update_index_entries(repo_, ours);
            return "";
        }
        git_tree* raw_tree = nullptr;
        check(lg().git_tree_lookup(&raw_tree, repo_, &tree_id), Exit::input, "GIT_ERROR",
              "cannot read the tree");
        const TreePtr tree(raw_tree);
        const git_commit* parents[] = {parent.get()};
        git_oid commit_id;
        // The branch's ref lock is libgit2's; kitty records itself as its owner first, so a
        // lock it leaves when killed is recognised as a dead kitty's like index.lock.
        const auto branch = current_branch();
        const fs::path ref_lock = common_dir() / "refs/heads" / (branch.value_or("HEAD") + ".lock");
        const fs::path owner = ref_lock.string() + ".kitty";
        std::error_code ec;
        if (fs::exists(ref_lock, ec)) {
            remove_dead_kitty_lock(ref_lock);
        }
        fs::create_directories(owner.parent_path(), ec);
        std::ofstream(owner, std::ios::trunc) << ::getpid() << "\n";
        // Updating HEAD checks that it still names the parent: a commit made meanwhile by
        // someone else is never overwritten.
        const int rc =
            lg().git_commit_create(&commit_id, repo_, "HEAD", signature.get(), signature.get(),
                                   nullptr, message.c_str(), tree.get(), parent ? 1 : 0, parents);
        fs::remove(owner, ec);
        if ((rc == GIT_EMODIFIED || rc == GIT_ELOCKED) && attempt < 100) {
            // Someone committed on this branch meanwhile (a person's git commit): kitty's paths
            // are committed again on top of the new HEAD, never over it.
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 + attempt, 20)));
            continue;
        }
        check(rc, Exit::temporary, "GIT_ERROR", "cannot commit");
        update_index_entries(repo_, ours);
        return hex(&commit_id);
    }
}

namespace {

// The index on disk, read apart from the repository's own, whose tree cache must never name
// a tree of index_holds_head's object store in memory; nullptr when it cannot be read.
IndexPtr index_on_disk(git_repository* repo) {
    git_index* raw_index = nullptr;
    const fs::path file = fs::path(lg().git_repository_path(repo)) / "index";
    if (lg().git_index_open(&raw_index, file.c_str()) != 0) {
        return nullptr;
    }
    return IndexPtr(raw_index);
}

// Whether `index` holds exactly HEAD's tree, so a status scan need not compare them entry by
// entry. git keeps the index's tree ids (its cached-tree extension); a subtree it left
// unknown (kitty's own commits leave the mission's so) is hashed into an object store that
// lives in memory only, in front of the repository's objects: a tree is made only of
// objects its store can find.
bool index_holds_head(git_repository* repo, git_index* index) {
    const auto head = peel_to_commit(repo, "HEAD");
    if (!head || index == nullptr || lg().git_index_has_conflicts(index) != 0) {
        return false;
    }
    git_repository* raw_scratch = nullptr;
    git_odb* raw_odb = nullptr;
    check(lg().git_repository_new(&raw_scratch), Exit::internal, "GIT_ERROR",
          "cannot make a repository in memory");
    const RepositoryPtr scratch(raw_scratch);
    check(lg().git_odb_new(&raw_odb), Exit::internal, "GIT_ERROR",
          "cannot make an object database");
    const OdbPtr odb(raw_odb);
    add_memory_store(odb.get());
    const fs::path objects = fs::path(lg().git_repository_commondir(repo)) / "objects";
    check(lg().git_odb_add_disk_alternate(odb.get(), objects.c_str()), Exit::internal, "GIT_ERROR",
          "cannot read the object database");
    check(lg().git_repository_set_odb(scratch.get(), odb.get()), Exit::internal, "GIT_ERROR",
          "cannot make a repository in memory");
    git_oid tree;
    if (lg().git_index_write_tree_to(&tree, index, scratch.get()) != 0) {
        return false;
    }
    const CommitPtr commit = lookup_commit(repo, *head);
    const TreePtr head_tree = commit_tree(commit.get());
    return lg().git_oid_equal(&tree, lg().git_tree_id(head_tree.get())) != 0;
}

// The entries on disk of directory `dir` (relative to `work`; empty: the whole work tree)
// that a status must look at when the paths `left_out` names are not asked about, added to
// `out`: every other entry, a directory with nothing left out below it as itself (its status
// covers it). Reading names costs no stat unless the type is unknown. Returns whether
// nothing was left out.
bool disk_paths(const fs::path& work, const std::string& dir,
                const std::function<bool(const std::string&)>& left_out,
                std::vector<std::string>& out) {
    bool whole = true;
    const std::unique_ptr<DIR, int (*)(DIR*)> listing(
        ::opendir((dir.empty() ? work : work / dir).c_str()), ::closedir);
    if (!listing) {
        return true;
    }
    while (const dirent* entry = ::readdir(listing.get())) {
        const std::string_view name = entry->d_name;
        if (name == "." || name == ".." || (dir.empty() && name == ".git")) {
            continue;
        }
        std::string path = dir.empty() ? std::string(name) : dir + "/" + std::string(name);
        if (left_out(path)) {
            whole = false;
            continue;
        }
        bool is_dir = entry->d_type == DT_DIR;
        if (entry->d_type == DT_UNKNOWN) {
            struct stat st {};
            is_dir =
                ::fstatat(::dirfd(listing.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(st.st_mode);
        }
        if (is_dir) {
            const std::size_t before = out.size();
            if (!disk_paths(work, path, left_out, out)) {
                whole = false;
                continue;
            }
            out.resize(before); // the directory stands for what is below it
        }
        out.push_back(std::move(path));
    }
    return whole;
}

// The paths the repository's index has under directory `dir` (all for an empty one), less
// those left out, added to `out`.
void index_paths(git_repository* repo, const std::string& dir,
                 const std::function<bool(const std::string&)>& left_out,
                 std::vector<std::string>& out) {
    const IndexPtr index = repository_index(repo);
    // As it is on disk now: the repository keeps the one it read first.
    check(lg().git_index_read(index.get(), 0), Exit::input, "GIT_ERROR", "cannot read the index");
    const std::string under = dir.empty() ? "" : dir + "/";
    std::size_t at = 0;
    if (!under.empty() && lg().git_index_find_prefix(&at, index.get(), under.c_str()) != 0) {
        return;
    }
    const std::size_t count = lg().git_index_entrycount(index.get());
    for (; at < count; ++at) {
        std::string path = lg().git_index_get_byindex(index.get(), at)->path;
        if (!path.starts_with(under)) {
            break;
        }
        if (!left_out(path)) {
            out.push_back(std::move(path));
        }
    }
}

// The file paths of `tree`, the directory `dir` of a commit, less those left out.
void tree_files(git_repository* repo, const git_tree* tree, const std::string& dir,
                const std::function<bool(const std::string&)>& left_out,
                std::vector<std::string>& out) {
    const std::size_t count = lg().git_tree_entrycount(tree);
    for (std::size_t i = 0; i < count; ++i) {
        const git_tree_entry* e = lg().git_tree_entry_byindex(tree, i);
        std::string path = (dir.empty() ? "" : dir + "/") + lg().git_tree_entry_name(e);
        if (left_out(path)) {
            continue;
        }
        if (lg().git_tree_entry_filemode(e) == GIT_FILEMODE_TREE) {
            tree_files(repo, entry_tree(repo, e).get(), path, left_out, out);
        } else {
            out.push_back(std::move(path));
        }
    }
}

// The paths HEAD has under directory `dir`, less those left out, added to `out`.
void head_paths(git_repository* repo, const std::string& dir,
                const std::function<bool(const std::string&)>& left_out,
                std::vector<std::string>& out) {
    const auto head = peel_to_commit(repo, "HEAD");
    if (!head) {
        return;
    }
    const CommitPtr commit = lookup_commit(repo, *head);
    const TreePtr root = commit_tree(commit.get());
    if (dir.empty()) {
        tree_files(repo, root.get(), dir, left_out, out);
        return;
    }
    git_tree_entry* raw = nullptr;
    if (lg().git_tree_entry_bypath(&raw, root.get(), dir.c_str()) != 0) {
        return;
    }
    const std::unique_ptr<git_tree_entry, void (*)(git_tree_entry*)> entry(
        raw, [](git_tree_entry* e) { lg().git_tree_entry_free(e); });
    if (lg().git_tree_entry_filemode(entry.get()) == GIT_FILEMODE_TREE) {
        tree_files(repo, entry_tree(repo, entry.get()).get(), dir, left_out, out);
    } else if (!left_out(dir)) {
        out.push_back(dir);
    }
}

} // namespace

bool Repository::index_is_head() const {
    const IndexPtr index = index_on_disk(repo_);
    return index_holds_head(repo_, index.get());
}

std::vector<std::string>
Repository::changed_paths(const std::string& prefix,
                          const std::function<bool(const std::string&)>& left_out) const {
    // "a/b" and "a/b/" both mean the directory a/b, never a sibling "a/bc".
    std::string dir = prefix;
    while (dir.ends_with('/')) {
        dir.pop_back();
    }
    std::vector<std::string> within;
    git_status_show_t show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    const auto work = work_dir();
    if (left_out && work) {
        // The paths not left out that the work tree, the index or HEAD has there: a status of
        // them alone finds every change to them, and nothing else is looked at.
        disk_paths(*work, dir, left_out, within);
        index_paths(repo_, dir, left_out, within);
        head_paths(repo_, dir, left_out, within);
        if (within.empty()) {
            return {};
        }
        std::sort(within.begin(), within.end());
        within.erase(std::unique(within.begin(), within.end()), within.end());
    } else {
        if (!dir.empty()) {
            within.push_back(dir);
        }
        const IndexPtr index = index_on_disk(repo_);
        if (index_holds_head(repo_, index.get())) {
            show = GIT_STATUS_SHOW_WORKDIR_ONLY;
        }
    }
    const std::set<std::string> all = status_paths(repo_, show, within);
    std::vector<std::string> out;
    for (const std::string& path : all) {
        if (is_atomic_write_temporary(fs::path(path).filename().string())) {
            continue; // another kitty process's file write, in flight
        }
        if (left_out && left_out(path)) {
            continue;
        }
        if (dir.empty() || path == dir ||
            (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/')) {
            out.push_back(path);
        }
    }
    return out;
}

std::vector<std::string> Repository::changed_among(const std::vector<std::string>& paths) const {
    if (paths.empty()) {
        return {};
    }
    const std::set<std::string> changed =
        status_paths(repo_, GIT_STATUS_SHOW_INDEX_AND_WORKDIR, paths);
    std::vector<std::string> out;
    for (const std::string& path : paths) {
        if (changed.count(path)) {
            out.push_back(path);
        }
    }
    return out;
}

std::vector<std::string> Repository::staged_paths() const {
    const std::set<std::string> staged = status_paths(repo_, GIT_STATUS_SHOW_INDEX_ONLY);
    return {staged.begin(), staged.end()};
}

fs::path Repository::local_config_path() const {
    return common_dir() / "config";
}

std::optional<std::string> Repository::local_config(const std::string& key) const {
    const fs::path file = local_config_path();
    const ConfigPtr config = open_config_file(file);
    git_config_entry* raw = nullptr;
    const int rc = lg().git_config_get_entry(&raw, config.get(), key.c_str());
    if (rc == GIT_ENOTFOUND) {
        return std::nullopt;
    }
    check(rc, Exit::input, "GIT_ERROR", "cannot read " + key + " from " + file.string());
    const ConfigEntryPtr entry(raw);
    return std::string(entry->value);
}

void Repository::set_local_config(const std::string& key, const std::string& value) {
    const fs::path file = local_config_path();
    const ConfigPtr config = open_config_file(file);
    check(lg().git_config_set_string(config.get(), key.c_str(), value.c_str()), Exit::input,
          "GIT_ERROR", "cannot set " + key + " in " + file.string());
}

std::optional<std::string> Repository::merge_base(const std::string& a,
                                                  const std::string& b) const {
    const auto one = peel_to_commit(repo_, a);
    const auto two = peel_to_commit(repo_, b);
    if (!one || !two) {
        return std::nullopt;
    }
    git_oid base;
    const int rc = lg().git_merge_base(&base, repo_, &*one, &*two);
    if (rc == GIT_ENOTFOUND) {
        return std::nullopt;
    }
    check(rc, Exit::input, "GIT_ERROR", "cannot find the merge base of " + a + " and " + b);
    return hex(&base);
}

bool Repository::is_ancestor(const std::string& ancestor, const std::string& descendant) const {
    const auto old_id = peel_to_commit(repo_, ancestor);
    const auto new_id = peel_to_commit(repo_, descendant);
    return old_id && new_id && contains(repo_, *new_id, *old_id);
}

int Repository::count_commits(const std::string& from, const std::string& to) const {
    const git_oid hidden = require_commit(repo_, from);
    const git_oid pushed = require_commit(repo_, to);
    git_revwalk* raw = nullptr;
    check(lg().git_revwalk_new(&raw, repo_), Exit::input, "GIT_ERROR", "cannot walk history");
    const WalkPtr walk(raw);
    check(lg().git_revwalk_push(walk.get(), &pushed), Exit::input, "GIT_ERROR",
          "cannot walk from " + to);
    check(lg().git_revwalk_hide(walk.get(), &hidden), Exit::input, "GIT_ERROR",
          "cannot walk from " + from);
    int count = 0;
    for (git_oid id; lg().git_revwalk_next(&id, walk.get()) == 0;) {
        ++count;
    }
    return count;
}

TrialMerge Repository::trial_merge(const std::string& ours, const std::string& theirs,
                                   const std::string& message) {
    const git_oid our_id = require_commit(repo_, ours);
    const git_oid their_id = require_commit(repo_, theirs);
    if (contains(repo_, our_id, their_id)) {
        return {TrialMerge::Outcome::up_to_date, hex(&our_id), {}};
    }
    if (contains(repo_, their_id, our_id)) {
        return {TrialMerge::Outcome::fast_forward, hex(&their_id), {}};
    }
    const SignaturePtr signature = default_signature(repo_);
    const CommitPtr our_commit = lookup_commit(repo_, our_id);
    const CommitPtr their_commit = lookup_commit(repo_, their_id);
    const IndexPtr index = merge_index(repo_, our_commit.get(), their_commit.get(),
                                       "merge " + theirs + " into " + ours);
    if (lg().git_index_has_conflicts(index.get()) != 0) {
        return {TrialMerge::Outcome::conflict, "", index_conflicts(index.get())};
    }
    const TreePtr tree = index_tree(repo_, index.get());
    const git_commit* parents[] = {our_commit.get(), their_commit.get()};
    git_oid merged;
    check(lg().git_commit_create(&merged, repo_, nullptr, signature.get(), signature.get(), nullptr,
                                 message.c_str(), tree.get(), 2, parents),
          Exit::input, "GIT_ERROR", "cannot write the merge commit");
    return {TrialMerge::Outcome::merged, hex(&merged), {}};
}

std::string Repository::combine_commits(const std::vector<std::string>& revisions,
                                        const std::string& message) {
    if (revisions.empty()) {
        throw Error(Exit::internal, "NO_REVISIONS", "no commits to combine");
    }
    // Checked first, so an unknown revision late in the list writes no merge commit.
    for (const std::string& revision : revisions) {
        require_commit(repo_, revision);
    }
    std::string result = revisions.front();
    for (std::size_t i = 1; i < revisions.size(); ++i) {
        const TrialMerge step = trial_merge(result, revisions[i], message);
        if (step.outcome == TrialMerge::Outcome::conflict) {
            std::vector<std::string> paths;
            for (const MergeConflict& c : step.conflicts) {
                paths.push_back(c.path);
            }
            std::string combined = revisions.front();
            for (std::size_t j = 1; j < i; ++j) {
                combined += ", " + revisions[j];
            }
            throw Error(Exit::check_failed, "MERGE_CONFLICT",
                        "cannot combine " + revisions[i] + " with " + combined + ": both change " +
                            join(paths),
                        "merge them by hand and resolve the conflicts, then retry")
                .with(nlohmann::ordered_json{{"conflicting_paths", paths}},
                      std::exchange(merge_driver_failures, {}));
        }
        result = step.commit;
    }
    const git_oid id = require_commit(repo_, result);
    return hex(&id);
}

std::vector<std::string> Repository::files_changed(const std::string& from,
                                                   const std::string& to) const {
    const CommitPtr a = lookup_commit(repo_, require_commit(repo_, from));
    const CommitPtr b = lookup_commit(repo_, require_commit(repo_, to));
    const TreePtr ta = commit_tree(a.get());
    const TreePtr tb = commit_tree(b.get());
    std::set<std::string> paths;
    for (const TreeChange& change : tree_changes(repo_, ta.get(), tb.get())) {
        paths.insert(change.path);
    }
    return {paths.begin(), paths.end()};
}

std::string Repository::squash_commit(const std::string& onto, const std::string& from,
                                      const std::string& message) {
    const git_oid onto_id = require_commit(repo_, onto);
    const git_oid from_id = require_commit(repo_, from);
    if (contains(repo_, onto_id, from_id)) {
        return hex(&onto_id);
    }
    const CommitPtr ours = lookup_commit(repo_, onto_id);
    const CommitPtr theirs = lookup_commit(repo_, from_id);
    const TreePtr tree =
        merged_tree(repo_, ours.get(), theirs.get(), "squash " + from + " onto " + onto);
    const TreePtr before = commit_tree(ours.get());
    if (lg().git_oid_equal(lg().git_tree_id(tree.get()), lg().git_tree_id(before.get())) != 0) {
        return hex(&onto_id);
    }
    const SignaturePtr signature = default_signature(repo_);
    const git_commit* parents[] = {ours.get()};
    git_oid squashed;
    check(lg().git_commit_create(&squashed, repo_, nullptr, signature.get(), signature.get(),
                                 nullptr, message.c_str(), tree.get(), 1, parents),
          Exit::input, "GIT_ERROR", "cannot write the squash commit");
    return hex(&squashed);
}

void Repository::move_branch(const std::string& branch, const std::string& to,
                             const std::string& expected, const std::string& reason) {
    const git_oid to_id = require_commit(repo_, to);
    const git_oid expected_id = require_commit(repo_, expected);
    git_reference* raw = nullptr;
    const int rc = lg().git_reference_create_matching(&raw, repo_, ("refs/heads/" + branch).c_str(),
                                                      &to_id, 1, &expected_id, reason.c_str());
    if (rc == GIT_EMODIFIED) {
        throw Error(Exit::conflict, "BRANCH_MOVED",
                    "branch " + branch + " moved while kitty worked; it is left where it is",
                    "look at what moved it, then run the command again");
    }
    check(rc, Exit::input, "GIT_ERROR", "cannot move branch " + branch);
    ReferencePtr{raw};
}

namespace {

// The blob id the work tree's file at `path` would have once cleaned by git's filters,
// nullopt when there is none.
std::optional<git_oid> workdir_blob(git_repository* repo, const fs::path& root,
                                    const std::string& path) {
    const fs::path file = root / path;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(file, ec);
    git_oid id;
    if (fs::is_symlink(st)) {
        const std::string target = fs::read_symlink(file, ec).string();
        if (ec || lg().git_odb_hash(&id, target.data(), target.size(), GIT_OBJECT_BLOB) != 0) {
            return std::nullopt;
        }
        return id;
    }
    if (!fs::is_regular_file(st) ||
        lg().git_repository_hashfile(&id, repo, file.c_str(), GIT_OBJECT_BLOB, path.c_str()) != 0) {
        return std::nullopt;
    }
    return id;
}

bool same_blob(const std::optional<git_oid>& a, const std::optional<git_oid>& b) {
    return a.has_value() == b.has_value() && (!a || lg().git_oid_equal(&*a, &*b) != 0);
}

} // namespace

void Repository::check_out_move(const std::string& from, const std::string& to) {
    move_work_tree(from, to, false);
}

std::vector<std::string> Repository::paths_in_the_way(const std::string& from,
                                                      const std::string& to) const {
    return move_work_tree(from, to, true);
}

std::vector<std::string> Repository::move_work_tree(const std::string& from, const std::string& to,
                                                    bool dry_run) const {
    const auto root = work_dir();
    if (!root) {
        throw Error(Exit::input, "BARE_REPOSITORY", "a bare repository has no checkout");
    }
    const CommitPtr before = lookup_commit(repo_, require_commit(repo_, from));
    const CommitPtr after = lookup_commit(repo_, require_commit(repo_, to));
    const TreePtr baseline = commit_tree(before.get());
    const TreePtr target = commit_tree(after.get());
    // Each file the move touches must hold its old or its new content: the new one is what
    // a checkout killed half way left. Anything else is a local change, never overwritten.
    struct Move {
        std::string path;
        std::optional<git_oid> id; // none: the file goes
        std::uint32_t mode = 0;
    };
    std::vector<Move> moves;
    std::vector<std::string> conflicts;
    for (TreeChange& change : tree_changes(repo_, baseline.get(), target.get())) {
        const std::optional<git_oid> here = workdir_blob(repo_, *root, change.path);
        if (!same_blob(here, change.old_id) && !same_blob(here, change.new_id)) {
            conflicts.push_back(change.path);
        }
        moves.push_back({std::move(change.path), change.new_id, change.new_mode});
    }
    if (dry_run) {
        return conflicts;
    }
    if (!conflicts.empty()) {
        const std::string listed = join(conflicts);
        throw Error(Exit::conflict, "CHECKOUT_CONFLICT",
                    "cannot bring the work tree from " + from + " to " + to + ": " + listed +
                        " changed locally and would be overwritten",
                    "commit those changes, or move the files away (ignored ones too)")
            .with(nlohmann::ordered_json{{"paths", conflicts}});
    }
    // Each file is replaced whole (temporary file, rename), so a move killed half way leaves
    // every file old or new, never partly written, and calling it again finishes it. The
    // content is the repository's, so the files are not synced (as git's checkout).
    const mode_t mask = ::umask(0);
    ::umask(mask);
    AtomicFileSet files(AtomicFileSet::Durability::rename_only);
    std::vector<std::pair<fs::path, std::string>> links;
    for (const Move& move : moves) {
        const fs::path file = *root / move.path;
        remove_stale_temporaries(file);
        if (!move.id || move.mode == GIT_FILEMODE_COMMIT) {
            continue;
        }
        git_blob* raw = nullptr;
        check(lg().git_blob_lookup(&raw, repo_, &*move.id), Exit::input, "GIT_ERROR",
              "cannot read " + move.path);
        const BlobPtr blob(raw);
        git_buf content = GIT_BUF_INIT;
        git_blob_filter_options filter = GIT_BLOB_FILTER_OPTIONS_INIT;
        check(lg().git_blob_filter(&content, blob.get(), move.path.c_str(), &filter), Exit::input,
              "GIT_ERROR", "cannot filter " + move.path);
        const std::string bytes(content.ptr, content.size);
        lg().git_buf_dispose(&content);
        if (move.mode == GIT_FILEMODE_LINK) {
            links.emplace_back(file, bytes);
        } else {
            files.stage(file, bytes,
                        (move.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666) & ~mask);
        }
    }
    files.commit();
    std::error_code ec;
    for (const auto& [file, target] : links) {
        const fs::path temp = file.parent_path() / ("." + file.filename().string() + ".kitty-link");
        fs::remove(temp, ec);
        fs::create_symlink(target, temp, ec);
        fs::rename(temp, file, ec);
        if (ec) {
            throw Error(Exit::input, "GIT_ERROR", "cannot write the link " + file.string());
        }
    }
    for (const Move& move : moves) {
        if (move.id) {
            continue;
        }
        fs::remove(*root / move.path, ec);
        // Directories the move emptied go too, as git removes them.
        for (fs::path dir = (*root / move.path).parent_path();
             dir != *root && fs::is_empty(dir, ec); dir = dir.parent_path()) {
            fs::remove(dir, ec);
        }
    }
    const IndexPtr index = repository_index(repo_);
    check(lg().git_index_read(index.get(), 1), Exit::input, "GIT_ERROR", "cannot read the index");
    for (const Move& move : moves) {
        if (move.mode == GIT_FILEMODE_COMMIT) {
            continue;
        }
        const int rc = move.id ? lg().git_index_add_bypath(index.get(), move.path.c_str())
                               : lg().git_index_remove_bypath(index.get(), move.path.c_str());
        check(rc, Exit::input, "GIT_ERROR", "cannot stage " + move.path);
    }
    write_index(repo_, index.get());
    return {};
}

namespace {

// <git dir>/MERGE_HEAD's first commit, nullopt when no merge is in progress.
std::optional<git_oid> read_merge_head(git_repository* repo) {
    const std::string text =
        read_small_file(fs::path(lg().git_repository_path(repo)) / "MERGE_HEAD");
    git_oid id;
    if (text.size() < 40 || lg().git_oid_fromstrn(&id, text.data(), 40) != 0) {
        return std::nullopt;
    }
    return id;
}

} // namespace

std::vector<std::string> Repository::start_merge(const std::string& from,
                                                 const std::string& message) {
    const git_oid id = require_commit(repo_, from);
    git_annotated_commit* raw = nullptr;
    check(lg().git_annotated_commit_lookup(&raw, repo_, &id), Exit::input, "GIT_ERROR",
          "cannot read commit " + from);
    const std::unique_ptr<git_annotated_commit,
                          Freer<git_annotated_commit, &LibGit2::git_annotated_commit_free>>
        annotated(raw);
    git_merge_options merge_options;
    lg().git_merge_options_init(&merge_options, GIT_MERGE_OPTIONS_VERSION);
    merge_options.default_driver = default_merge_driver();
    git_checkout_options checkout_options;
    lg().git_checkout_options_init(&checkout_options, GIT_CHECKOUT_OPTIONS_VERSION);
    checkout_options.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_ALLOW_CONFLICTS;
    const git_annotated_commit* heads[] = {annotated.get()};
    check(lg().git_merge(repo_, heads, 1, &merge_options, &checkout_options), Exit::conflict,
          "CHECKOUT_CONFLICT", "cannot start merging " + from);
    write_file_atomic(fs::path(lg().git_repository_path(repo_)) / "MERGE_MSG", message + "\n");
    return conflicted_paths();
}

void Repository::abort_merge() {
    if (!merge_head()) {
        return;
    }
    git_object* raw = nullptr;
    check(lg().git_revparse_single(&raw, repo_, "HEAD"), Exit::input, "GIT_ERROR",
          "cannot read HEAD");
    const ObjectPtr head(raw);
    git_checkout_options options;
    lg().git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
    options.checkout_strategy = GIT_CHECKOUT_FORCE;
    // A hard reset, as git merge --abort of a merge started on a clean checkout; it also
    // removes MERGE_HEAD and MERGE_MSG. Untracked files stay.
    check(lg().git_reset(repo_, head.get(), GIT_RESET_HARD, &options), Exit::input, "GIT_ERROR",
          "cannot give up the merge");
    check(lg().git_repository_state_cleanup(repo_), Exit::input, "GIT_ERROR",
          "cannot clear the merge state");
}

std::vector<std::string> Repository::conflicted_paths() const {
    const IndexPtr index = repository_index(repo_);
    check(lg().git_index_read(index.get(), 1), Exit::input, "GIT_ERROR", "cannot read the index");
    return conflicting_paths(index.get());
}

std::optional<std::string> Repository::merge_head() const {
    const auto id = read_merge_head(repo_);
    return id ? std::optional<std::string>(hex(&*id)) : std::nullopt;
}

std::string Repository::finish_merge(const std::string& message) {
    const auto theirs_id = read_merge_head(repo_);
    if (!theirs_id) {
        throw Error(Exit::input, "NO_MERGE_IN_PROGRESS", "no merge is in progress here");
    }
    const SignaturePtr signature = default_signature(repo_);
    const IndexPtr index = repository_index(repo_);
    check(lg().git_index_read(index.get(), 1), Exit::input, "GIT_ERROR", "cannot read the index");
    check(lg().git_index_add_all(index.get(), nullptr, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr),
          Exit::input, "GIT_ERROR", "cannot stage the work tree");
    check(lg().git_index_update_all(index.get(), nullptr, nullptr, nullptr), Exit::input,
          "GIT_ERROR", "cannot stage the work tree");
    const TreePtr tree = write_index_tree(repo_, index.get());
    const CommitPtr ours = lookup_commit(repo_, require_commit(repo_, "HEAD"));
    const CommitPtr theirs = lookup_commit(repo_, *theirs_id);
    const git_commit* parents[] = {ours.get(), theirs.get()};
    git_oid merged;
    check(lg().git_commit_create(&merged, repo_, "HEAD", signature.get(), signature.get(), nullptr,
                                 message.c_str(), tree.get(), 2, parents),
          Exit::conflict, "GIT_ERROR", "cannot commit the merge");
    check(lg().git_repository_state_cleanup(repo_), Exit::input, "GIT_ERROR",
          "cannot clear the merge state");
    return hex(&merged);
}

std::optional<std::string> Repository::find_commit(const std::string& revision,
                                                   const std::vector<std::string>& needles) const {
    const auto start = peel_to_commit(repo_, revision);
    git_revwalk* raw_walk = nullptr;
    if (!start || lg().git_revwalk_new(&raw_walk, repo_) != 0) {
        return std::nullopt;
    }
    const WalkPtr walk(raw_walk);
    lg().git_revwalk_push(walk.get(), &*start);
    for (git_oid id; lg().git_revwalk_next(&id, walk.get()) == 0;) {
        git_commit* raw = nullptr;
        if (lg().git_commit_lookup(&raw, repo_, &id) != 0) {
            continue;
        }
        const CommitPtr commit(raw);
        const char* summary = lg().git_commit_summary(commit.get());
        const std::string_view subject = summary ? summary : "";
        for (const std::string& needle : needles) {
            if (subject.find(needle) != std::string_view::npos) {
                return hex(&id);
            }
        }
    }
    return std::nullopt;
}

CommitTime Repository::commit_time(const std::string& revision) const {
    const auto id = peel_to_commit(repo_, revision);
    git_commit* raw = nullptr;
    if (!id || lg().git_commit_lookup(&raw, repo_, &*id) != 0) {
        throw Error(Exit::input, "UNKNOWN_REVISION", "no commit named " + revision);
    }
    const CommitPtr commit(raw);
    return {lg().git_commit_time(commit.get()), lg().git_commit_time_offset(commit.get())};
}

std::vector<GitTag> Repository::tags(const std::string& pattern, bool commit_times) const {
    StrArray names;
    check(lg().git_tag_list_match(&names.value, pattern.c_str(), repo_), Exit::input, "GIT_ERROR",
          "cannot list tags");
    std::vector<GitTag> tags;
    for (std::size_t i = 0; i < names.value.count; ++i) {
        GitTag tag{names.value.strings[i], 0};
        if (commit_times) {
            if (const auto id = peel_to_commit(repo_, "refs/tags/" + tag.name)) {
                git_commit* raw = nullptr;
                if (lg().git_commit_lookup(&raw, repo_, &*id) == 0) {
                    const CommitPtr commit(raw);
                    tag.commit_time = lg().git_commit_time(commit.get());
                }
            }
        }
        tags.push_back(std::move(tag));
    }
    std::sort(tags.begin(), tags.end(),
              [](const GitTag& a, const GitTag& b) { return a.name < b.name; });
    return tags;
}

std::optional<BranchProgress> Repository::progress_since_default_branch() const {
    // The default branch: origin/HEAD's target, else the first of main, master, develop.
    std::vector<std::string> candidates{"main", "master", "develop"};
    git_reference* raw = nullptr;
    if (lg().git_reference_lookup(&raw, repo_, "refs/remotes/origin/HEAD") == 0) {
        const ReferencePtr origin_head(raw);
        if (lg().git_reference_type(origin_head.get()) == GIT_REFERENCE_SYMBOLIC) {
            const std::string target = lg().git_reference_symbolic_target(origin_head.get());
            candidates = {target.substr(target.rfind('/') + 1)};
        }
    }
    std::optional<git_oid> base_tip;
    for (const std::string& candidate : candidates) {
        git_oid id;
        if (lg().git_reference_name_to_id(&id, repo_, ("refs/heads/" + candidate).c_str()) == 0) {
            base_tip = id;
            break;
        }
    }
    git_oid head;
    if (!base_tip || lg().git_reference_name_to_id(&head, repo_, "HEAD") != 0) {
        return std::nullopt;
    }
    git_oid base;
    if (lg().git_merge_base(&base, repo_, &head, &*base_tip) != 0) {
        return std::nullopt;
    }
    git_revwalk* raw_walk = nullptr;
    if (lg().git_revwalk_new(&raw_walk, repo_) != 0) {
        return std::nullopt;
    }
    const WalkPtr walk(raw_walk);
    lg().git_revwalk_push(walk.get(), &head);
    lg().git_revwalk_hide(walk.get(), &base);
    BranchProgress progress;
    for (git_oid id; lg().git_revwalk_next(&id, walk.get()) == 0;) {
        ++progress.commits_ahead;
    }
    progress.last_commit = commit_time("HEAD");
    return progress;
}

const char* conflict_kind_name(MergeConflict::Kind kind) {
    switch (kind) {
    case MergeConflict::Kind::add_add:
        return "add/add";
    case MergeConflict::Kind::modify_delete:
        return "modify/delete";
    case MergeConflict::Kind::rename:
        return "rename";
    case MergeConflict::Kind::content:
        break;
    }
    return "content";
}

void register_default_merge_driver(DefaultMergeDriver merge) {
    MergeDrivers& drivers = merge_drivers();
    {
        const std::lock_guard lock(drivers.mutex);
        drivers.fallback = std::move(merge);
    }
    register_merge_driver(kDefaultMergeDriverName, nullptr);
}

void register_merge_driver(const std::string& name, MergeDriver merge) {
    // One C driver for every name (libgit2 passes the name to apply). libgit2 keeps the
    // pointer for the rest of the process; a constant-initialised struct outlives every use.
    static constinit git_merge_driver driver{GIT_MERGE_DRIVER_VERSION, nullptr, nullptr,
                                             apply_merge_driver};
    const LibGit2& git = lg();
    MergeDrivers& drivers = merge_drivers();
    const std::lock_guard lock(drivers.mutex);
    drivers.functions.insert_or_assign(name, std::move(merge));
    // Already registered (by an earlier call) is fine: the function was replaced above.
    const int rc = git.git_merge_driver_register(name.c_str(), &driver);
    if (rc != GIT_EEXISTS) {
        check(rc, Exit::internal, "GIT_ERROR", "cannot register the merge driver " + name);
    }
}

} // namespace kitty
