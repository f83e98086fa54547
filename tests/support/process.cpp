#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include <git2.h>

namespace fs = std::filesystem;

namespace kitty::test {
namespace {

// Tests must not see a developer's pinned clock or project override; meson 1.0 cannot
// unset variables in a test environment, so the support library does it on load.
const bool environment_cleaned = [] {
    ::unsetenv("SOURCE_DATE_EPOCH");
    ::unsetenv("SPECIFY_REPO_ROOT");
    return true;
}();

} // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
        ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    // A terminal as stdin: the input is typed into the pseudo-terminal's master side.
    int tty_master = -1, tty_slave = -1;
    if (options.stdin_tty && ::openpty(&tty_master, &tty_slave, nullptr, nullptr, nullptr) != 0) {
        throw std::runtime_error("openpty failed");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        ::dup2(options.stdin_tty ? tty_slave : in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        if (!options.stdout_file.empty()) {
            const int fd = ::open(options.stdout_file.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ::dup2(fd, 1) < 0) {
                ::_exit(125);
            }
        }
        if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
            ::_exit(126);
        }
        for (const auto& [k, v] : options.env) {
            if (v.empty()) {
                ::unsetenv(k.c_str());
            } else {
                ::setenv(k.c_str(), v.c_str(), 1);
            }
        }
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ::signal(SIGPIPE, SIG_IGN);
    std::size_t written = 0;
    if (options.stdin_tty) {
        ::close(tty_slave);
        if (::write(tty_master, options.input.data(), options.input.size()) < 0) {
            throw std::runtime_error("cannot type into the pseudo-terminal");
        }
    }
    if (options.input.empty() || options.stdin_tty) {
        ::close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    ProcessResult result;
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
    int open_outputs = 2;
    while (open_outputs > 0) {
        const nfds_t n = in_pipe[1] >= 0 ? 3 : 2;
        if (::poll(fds, n, -1) < 0) {
            continue;
        }
        if (n == 3 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t w =
                ::write(in_pipe[1], options.input.data() + written, options.input.size() - written);
            written += w > 0 ? static_cast<std::size_t>(w) : 0;
            if (w < 0 || written == options.input.size()) {
                ::close(in_pipe[1]);
                in_pipe[1] = -1;
            }
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                char buf[65536];
                const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
                if (r > 0) {
                    (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(r));
                } else {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_outputs;
                }
            }
        }
    }
    if (in_pipe[1] >= 0) {
        ::close(in_pipe[1]);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (tty_master >= 0) {
        ::close(tty_master);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string tool_path(const std::string& name) {
    const char* dir = std::getenv("KITTY_BIN_DIR");
    if (dir == nullptr) {
        throw std::runtime_error("KITTY_BIN_DIR is not set (run the tests with meson test)");
    }
    return (fs::path(dir) / name).string();
}

std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string rest = path == nullptr ? "" : path;
    while (!rest.empty()) {
        const std::size_t colon = rest.find(':');
        const std::string dir = rest.substr(0, colon);
        rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
        if (!dir.empty() && ::access((fs::path(dir) / name).c_str(), X_OK) == 0) {
            return (fs::path(dir) / name).string();
        }
    }
    return "";
}

fs::path shared_dir() {
    const char* dir = std::getenv("KITTY_SHARED_DIR");
    if (dir == nullptr || !fs::is_directory(fs::path(dir) / "corpus")) {
        return {};
    }
    return dir;
}

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = (fs::path(base ? base : "/tmp") / "kitty-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = fs::canonical(tmpl);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

void write_fixture(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::vector<std::string> every_text(const std::vector<std::string>& pieces, std::size_t below) {
    std::vector<std::string> texts{""};
    for (std::size_t from = 0; from < texts.size(); ++from) {
        if (texts[from].size() < below) {
            for (const std::string& p : pieces) {
                texts.push_back(texts[from] + p);
            }
        }
    }
    return texts;
}

std::string yaml_alias_bomb() {
    std::string text = "work_package_id: WP01\ntitle: T\na0: &a0 [x,x,x,x,x,x,x,x,x]\n";
    for (int i = 1; i <= 9; ++i) {
        const std::string prev = "*a" + std::to_string(i - 1);
        text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 8; ++j) {
            text += prev + ",";
        }
        text += prev + "]\n";
    }
    return text;
}

void make_project(const fs::path& root) {
    fs::create_directories(root / ".kittify");
}

void make_git_repo(const fs::path& dir, const std::string& branch) {
    git_libgit2_init();
    git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    opts.flags = GIT_REPOSITORY_INIT_MKPATH;
    opts.initial_head = branch.c_str();
    git_repository* repo = nullptr;
    if (git_repository_init_ext(&repo, dir.c_str(), &opts) != 0) {
        throw std::runtime_error("git_repository_init_ext failed");
    }
    git_repository_free(repo);
    git_libgit2_shutdown();
}

namespace {

void check(int rc, const char* what) {
    if (rc != 0) {
        const git_error* e = git_error_last();
        throw std::runtime_error(std::string(what) + ": " + (e ? e->message : "libgit2 error"));
    }
}

} // namespace

std::string git_commit_all(const fs::path& dir, const std::string& message, std::int64_t when) {
    struct Session {
        Session() { git_libgit2_init(); }
        ~Session() { git_libgit2_shutdown(); }
    } session;
    const auto owned = [](auto* p, auto free) {
        return std::unique_ptr<std::remove_pointer_t<decltype(p)>, decltype(free)>(p, free);
    };
    git_repository* r = nullptr;
    check(git_repository_open(&r, dir.c_str()), "open");
    const auto repo = owned(r, &git_repository_free);
    git_index* i = nullptr;
    check(git_repository_index(&i, repo.get()), "index");
    const auto index = owned(i, &git_index_free);
    check(git_index_add_all(index.get(), nullptr, 0, nullptr, nullptr), "add");
    check(git_index_write(index.get()), "write index");
    git_oid tree_id, commit_id, head;
    check(git_index_write_tree(&tree_id, index.get()), "write tree");
    git_tree* t = nullptr;
    check(git_tree_lookup(&t, repo.get(), &tree_id), "tree");
    const auto tree = owned(t, &git_tree_free);
    git_signature* g = nullptr;
    check(git_signature_new(&g, "kitty tests", "tests@kitty.invalid", when, 0), "signature");
    const auto sig = owned(g, &git_signature_free);
    git_commit* c = nullptr;
    const bool has_parent = git_reference_name_to_id(&head, repo.get(), "HEAD") == 0;
    if (has_parent) {
        check(git_commit_lookup(&c, repo.get(), &head), "parent");
    }
    const auto parent = owned(c, &git_commit_free);
    // A merge in progress is concluded as `git commit` concludes it: MERGE_HEAD the second
    // parent, the merge state cleared.
    git_oid merge_head;
    git_commit* m = nullptr;
    const bool merging =
        has_parent && git_reference_name_to_id(&merge_head, repo.get(), "MERGE_HEAD") == 0;
    if (merging) {
        check(git_commit_lookup(&m, repo.get(), &merge_head), "merge head");
    }
    const auto other = owned(m, &git_commit_free);
    const git_commit* parents[] = {parent.get(), other.get()};
    check(git_commit_create(&commit_id, repo.get(), "HEAD", sig.get(), sig.get(), nullptr,
                            message.c_str(), tree.get(), has_parent ? (merging ? 2 : 1) : 0,
                            parents),
          "commit");
    if (merging) {
        check(git_repository_state_cleanup(repo.get()), "merge state");
    }
    return git_oid_tostr_s(&commit_id);
}

void git_tag(const fs::path& dir, const std::string& name) {
    struct Session {
        Session() { git_libgit2_init(); }
        ~Session() { git_libgit2_shutdown(); }
    } session;
    git_repository* r = nullptr;
    check(git_repository_open(&r, dir.c_str()), "open");
    const std::unique_ptr<git_repository, decltype(&git_repository_free)> repo(
        r, &git_repository_free);
    git_object* head = nullptr;
    check(git_revparse_single(&head, repo.get(), "HEAD"), "HEAD");
    const std::unique_ptr<git_object, decltype(&git_object_free)> target(head, &git_object_free);
    git_oid id;
    check(git_tag_create_lightweight(&id, repo.get(), name.c_str(), target.get(), 0), "tag");
}

} // namespace kitty::test
