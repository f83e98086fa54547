// What the loop and merge suites share: a git project made with kitty-init, a read-only
// libgit2 view of a repository independent of kitty, the scripted agent's work, and a
// process killed at a chosen moment.
#pragma once

#include <fcntl.h>
#include <git2.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kitty/json.hpp"
#include "kitty/text.hpp"
#include "process.hpp"

namespace kitty::test {

namespace fs = std::filesystem;

// Reads a repository with libgit2 directly, independently of kitty.
class GitView {
public:
    explicit GitView(const fs::path& dir) {
        git_libgit2_init();
        EXPECT_EQ(git_repository_open_ext(&repo_, dir.c_str(), 0, nullptr), 0);
    }
    GitView(const GitView&) = delete;
    GitView& operator=(const GitView&) = delete;
    ~GitView() {
        git_repository_free(repo_);
        git_libgit2_shutdown();
    }
    std::set<std::string> branches() const {
        std::set<std::string> out;
        git_branch_iterator* it = nullptr;
        git_branch_iterator_new(&it, repo_, GIT_BRANCH_LOCAL);
        git_reference* ref = nullptr;
        git_branch_t type;
        while (git_branch_next(&ref, &type, it) == 0) {
            const char* name = nullptr;
            git_branch_name(&name, ref);
            out.insert(name);
            git_reference_free(ref);
        }
        git_branch_iterator_free(it);
        return out;
    }
    std::string tip(const std::string& branch) const {
        git_oid id;
        if (git_reference_name_to_id(&id, repo_, ("refs/heads/" + branch).c_str()) != 0) {
            return "";
        }
        return git_oid_tostr_s(&id);
    }
    std::vector<std::string> subjects(const std::string& branch) const {
        std::vector<std::string> out;
        git_revwalk* walk = nullptr;
        git_revwalk_new(&walk, repo_);
        git_revwalk_push_ref(walk, ("refs/heads/" + branch).c_str());
        for (git_oid id; git_revwalk_next(&id, walk) == 0;) {
            git_commit* c = nullptr;
            git_commit_lookup(&c, repo_, &id);
            out.push_back(git_commit_summary(c));
            git_commit_free(c);
        }
        git_revwalk_free(walk);
        return out;
    }
    bool is_ancestor(const std::string& a, const std::string& b) const {
        git_oid x, y;
        git_oid_fromstr(&x, a.c_str());
        git_oid_fromstr(&y, b.c_str());
        return git_oid_equal(&x, &y) || git_graph_descendant_of(repo_, &y, &x) == 1;
    }
    std::set<std::string> worktrees() const {
        git_strarray names{};
        git_worktree_list(&names, repo_);
        std::set<std::string> out(names.strings, names.strings + names.count);
        git_strarray_dispose(&names);
        return out;
    }
    std::set<std::string> refs() const {
        git_strarray names{};
        git_reference_list(&names, repo_);
        std::set<std::string> out(names.strings, names.strings + names.count);
        git_strarray_dispose(&names);
        return out;
    }
    // Every file of `branch`'s tree with its content.
    std::map<std::string, std::string> files(const std::string& branch) const {
        git_object* obj = nullptr;
        std::map<std::string, std::string> out;
        if (git_revparse_single(&obj, repo_, (branch + "^{tree}").c_str()) != 0) {
            ADD_FAILURE() << branch << " has no tree";
            return out;
        }
        struct Walk {
            git_repository* repo;
            std::map<std::string, std::string>* files;
        } walk{repo_, &out};
        git_tree_walk(
            reinterpret_cast<git_tree*>(obj), GIT_TREEWALK_PRE,
            [](const char* root, const git_tree_entry* entry, void* payload) {
                auto* w = static_cast<Walk*>(payload);
                if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
                    return 0;
                }
                git_blob* blob = nullptr;
                git_blob_lookup(&blob, w->repo, git_tree_entry_id(entry));
                (*w->files)[std::string(root) + git_tree_entry_name(entry)] =
                    std::string(static_cast<const char*>(git_blob_rawcontent(blob)),
                                static_cast<std::size_t>(git_blob_rawsize(blob)));
                git_blob_free(blob);
                return 0;
            },
            &walk);
        git_object_free(obj);
        return out;
    }
    // Whether the tree of `branch`'s tip has a file at `path`.
    // The parents of the commit `revision` names, in order.
    std::vector<std::string> parents(const std::string& revision) const {
        git_object* obj = nullptr;
        std::vector<std::string> out;
        if (git_revparse_single(&obj, repo_, (revision + "^{commit}").c_str()) != 0) {
            return out;
        }
        const auto* commit = reinterpret_cast<const git_commit*>(obj);
        for (unsigned i = 0; i < git_commit_parentcount(commit); ++i) {
            out.emplace_back(git_oid_tostr_s(git_commit_parent_id(commit, i)));
        }
        git_object_free(obj);
        return out;
    }
    bool has_file(const std::string& branch, const std::string& path) const {
        git_object* tree = nullptr;
        if (git_revparse_single(&tree, repo_, (branch + "^{tree}").c_str()) != 0) {
            return false;
        }
        git_tree_entry* entry = nullptr;
        const bool found =
            git_tree_entry_bypath(&entry, reinterpret_cast<git_tree*>(tree), path.c_str()) == 0;
        git_tree_entry_free(entry);
        git_object_free(tree);
        return found;
    }
    int parent_count(const std::string& branch) const {
        git_object* commit = nullptr;
        if (git_revparse_single(&commit, repo_, (branch + "^{commit}").c_str()) != 0) {
            return -1;
        }
        const int n =
            static_cast<int>(git_commit_parentcount(reinterpret_cast<git_commit*>(commit)));
        git_object_free(commit);
        return n;
    }
    // Commits `content` at `path` on `branch` without a work tree (someone else's change).
    void commit_on(const std::string& branch, const std::string& path,
                   const std::string& content) const {
        git_object* parent = nullptr;
        ASSERT_EQ(git_revparse_single(&parent, repo_, (branch + "^{commit}").c_str()), 0);
        git_tree* tree = nullptr;
        git_commit_tree(&tree, reinterpret_cast<git_commit*>(parent));
        git_index* index = nullptr;
        git_index_new(&index);
        git_index_read_tree(index, tree);
        git_index_entry entry{};
        entry.mode = GIT_FILEMODE_BLOB;
        entry.path = path.c_str();
        ASSERT_EQ(git_blob_create_from_buffer(&entry.id, repo_, content.data(), content.size()), 0);
        ASSERT_EQ(git_index_add(index, &entry), 0);
        git_oid tree_id;
        git_index_write_tree_to(&tree_id, index, repo_);
        git_tree* new_tree = nullptr;
        git_tree_lookup(&new_tree, repo_, &tree_id);
        git_signature* sig = nullptr;
        git_signature_now(&sig, "Someone Else", "else@kitty.invalid");
        const git_commit* parents[] = {reinterpret_cast<git_commit*>(parent)};
        git_oid id;
        EXPECT_EQ(git_commit_create(&id, repo_, ("refs/heads/" + branch).c_str(), sig, sig, nullptr,
                                    ("change " + path).c_str(), new_tree, 1, parents),
                  0);
        git_signature_free(sig);
        git_tree_free(new_tree);
        git_index_free(index);
        git_tree_free(tree);
        git_object_free(parent);
    }
    // Paths `git status` would list (untracked included).
    std::vector<std::string> dirty() const {
        git_status_options o = GIT_STATUS_OPTIONS_INIT;
        o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
        git_status_list* list = nullptr;
        git_status_list_new(&list, repo_, &o);
        std::vector<std::string> out;
        for (std::size_t i = 0; i < git_status_list_entrycount(list); ++i) {
            const git_status_entry* e = git_status_byindex(list, i);
            const git_diff_delta* d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
            out.push_back(d->new_file.path);
        }
        git_status_list_free(list);
        return out;
    }

private:
    git_repository* repo_ = nullptr;
};

inline void set_identity(const fs::path& repo) {
    write_fixture(repo / ".git/config",
                  slurp(repo / ".git/config") +
                      "[user]\n\tname = Loop Tester\n\temail = loop@kitty.invalid\n");
}

inline std::string wp_file(const std::string& id, const std::string& title,
                           const std::vector<std::string>& deps, const std::string& mode,
                           const std::string& owned) {
    std::string dep_list;
    for (const std::string& d : deps) {
        dep_list += (dep_list.empty() ? "" : ", ") + d;
    }
    return "---\nwork_package_id: " + id + "\ntitle: " + title + "\ndependencies: [" + dep_list +
           "]\nrequirement_refs: [FR-001]\nexecution_mode: " + mode +
           "\nauthoritative_surface: " + owned.substr(0, owned.rfind('/') + 1) +
           "\nowned_files:\n- " + owned + "\n---\n\n# " + id + ": " + title + "\n\nDo the " +
           title + ".\n";
}

struct WpSpec {
    std::string id, title;
    std::vector<std::string> deps;
    std::string mode, owned;
};

inline std::string tasks_md(const std::vector<WpSpec>& wps) {
    std::string out = "# Work Packages\n\n";
    int t = 1;
    for (const WpSpec& wp : wps) {
        std::string deps = wp.deps.empty() ? "None" : "";
        for (const std::string& d : wp.deps) {
            deps += (deps.empty() ? "" : ", ") + d;
        }
        char task[16];
        std::snprintf(task, sizeof task, "T%03d", t++);
        out += "## Work Package " + wp.id + ": " + wp.title + "\n\n**Dependencies**: " + deps +
               "\n\n- [ ] " + task + " " + wp.title + "\n\n";
    }
    return out;
}

// The JSON documents of a JSON-lines file (status.events.jsonl), blank lines skipped.
inline std::vector<Json> json_lines(const fs::path& file) {
    std::vector<Json> out;
    kitty::for_each_stripped_line(slurp(file), [&](int, std::string_view line) {
        out.push_back(kitty::parse_json(line, file));
    });
    return out;
}

// A git project made with kitty-init, HOME isolated, and a helper to run spec-kitty in it.
struct Project {
    TempDir tmp;
    fs::path root = tmp / "proj";
    fs::path home = tmp / "home";

    Project() {
        fs::create_directories(home);
        fs::create_directories(root);
        make_git_repo(root);
        set_identity(root);
        const auto r = run({tool_path("kitty-init"), ".", "--ai", "claude", "--non-interactive"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }

    ProcessResult run(const std::vector<std::string>& argv, const fs::path& cwd = {}) const {
        return run_process(argv, {"", cwd.empty() ? root : cwd, {{"HOME", home.string()}}});
    }
    ProcessResult sk(std::vector<std::string> args, const fs::path& cwd = {}) const {
        args.insert(args.begin(), tool_path("spec-kitty"));
        args.push_back("--json");
        return run(args, cwd);
    }
    Json sk_json(const std::vector<std::string>& args, int expect_exit = 0,
                 const fs::path& cwd = {}) const {
        const auto r = sk(args, cwd);
        EXPECT_EQ(r.exit_code, expect_exit) << r.out << r.err;
        return kitty::parse_json(r.out, "stdout");
    }
    Json next(const std::string& agent, const std::string& result = "", int expect_exit = 0,
              const std::string& mission = "") const {
        std::vector<std::string> args{"next"};
        if (!agent.empty()) {
            args.insert(args.end(), {"--agent", agent});
        }
        if (!result.empty()) {
            args.insert(args.end(), {"--result", result});
        }
        if (!mission.empty()) {
            args.insert(args.end(), {"--mission", mission});
        }
        return sk_json(args, expect_exit);
    }
    void commit(const std::string& message) const { git_commit_all(root, message); }

    // A finalized mission 001-demo with these WPs, committed.
    fs::path finalized_mission(const std::vector<WpSpec>& wps) const {
        const auto r = sk({"agent", "mission", "create", "demo"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const fs::path dir = root / "kitty-specs/001-demo";
        write_mission_files(dir, wps);
        const auto f = sk({"agent", "mission", "finalize-tasks", "--mission", "001-demo"});
        EXPECT_EQ(f.exit_code, 0) << f.out << f.err;
        commit("finalized");
        return dir;
    }

    static void write_mission_files(const fs::path& dir, const std::vector<WpSpec>& wps) {
        write_fixture(dir / "spec.md", "# Spec\n\n- FR-001 The feature works.\n");
        write_fixture(dir / "plan.md", "# Plan\n");
        write_fixture(dir / "tasks.md", tasks_md(wps));
        for (const WpSpec& wp : wps) {
            write_fixture(dir / "tasks" / (wp.id + "-" + wp.title + ".md"),
                          wp_file(wp.id, wp.title, wp.deps, wp.mode, wp.owned));
        }
    }

    std::vector<Json> events() const {
        return json_lines(root / "kitty-specs/001-demo/status.events.jsonl");
    }
    std::map<std::string, std::string> lanes() const {
        std::map<std::string, std::string> out;
        for (const Json& e : events()) {
            out[e["wp_id"].get<std::string>()] = e["to_lane"].get<std::string>();
        }
        return out;
    }
};

inline std::vector<std::string> keys(const Json& doc) {
    std::vector<std::string> out;
    for (const auto& [k, v] : doc.items()) {
        out.push_back(k);
    }
    return out;
}

// Two code lanes (WP01, WP02) and a planning WP (WP03).
inline const std::vector<WpSpec> kThreeWps = {
    {"WP01", "alpha", {}, "code_change", "src/alpha/**"},
    {"WP02", "beta", {}, "code_change", "src/beta/**"},
    {"WP03", "notes", {}, "planning_artifact", "docs/notes.md"},
};

// The agent's work in a workspace: a file under its owned directory, committed with libgit2.
inline void do_work(const Project& p, const Json& claim, const std::string& name) {
    const fs::path ws = claim["workspace_path"].get<std::string>();
    const std::string wp = claim["wp_id"].get<std::string>();
    const std::string mode = claim["execution_mode"].get<std::string>();
    if (mode == "planning_artifact") {
        write_fixture(ws / "docs/notes.md", "notes by " + name + "\n");
    } else {
        const std::string dir = wp == "WP01" ? "alpha" : wp == "WP02" ? "beta" : "gamma";
        write_fixture(ws / "src" / dir / (name + ".txt"), name + "\n");
    }
    git_commit_all(ws, "work on " + wp + " by " + name);
    (void)p;
}

// implement (agent `claude`), the agent's committed file, and an approval (move-task
// --force: the review path is the loop suite's and the demo's).
inline void approve(const Project& p, const std::string& wp, const std::string& name = "work") {
    const Json claim = p.sk_json({"agent", "action", "implement", wp, "--agent", "claude"});
    do_work(p, claim, name);
    p.sk_json(
        {"agent", "tasks", "move-task", wp, "--to", "approved", "--agent", "claude", "--force"});
}

// Every file of the project, .git included (objects, refs, reflogs, the index) and the lane
// worktrees, with its content: what a command that writes nothing must leave as it was.
// Every file of the project and its .git, except kitty's derived caches (a read may record
// what it parsed there; deleting them changes no answer).
inline std::map<std::string, std::string> every_file(const Project& p) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(p.root)) {
        const std::string rel = entry.path().lexically_relative(p.root).generic_string();
        if (entry.is_regular_file() && !entry.is_symlink() &&
            !rel.starts_with(".kittify/runtime/cache/")) {
            files[rel] = slurp(entry.path());
        }
    }
    return files;
}

// Starts `argv` in `cwd` with HOME set, SIGKILLs it after `delay`, and reaps it.
inline void run_and_kill(const std::vector<std::string>& argv, const fs::path& cwd,
                         const fs::path& home, std::chrono::microseconds delay) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::chdir(cwd.c_str()) != 0) {
            ::_exit(127);
        }
        ::setenv("HOME", home.c_str(), 1);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        std::vector<char*> args;
        for (const std::string& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

} // namespace kitty::test
