// Crash-safe file replacement: the target always holds either its old or its new bytes.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kitty {

// fsyncs put off until a lock is released. A file written under a lock is what the lock's
// next holder reads at once (from the page cache), so the disk flush need not hold the lock
// up: the writer syncs after the release and before it reports success. An fsync of an
// appended file flushes the earlier holders' appends to it too, so whoever has reported
// success has made durable every event its own decision read.
class DeferredSync {
public:
    DeferredSync() = default;
    DeferredSync(const DeferredSync&) = delete;
    DeferredSync& operator=(const DeferredSync&) = delete;
    DeferredSync(DeferredSync&& other) noexcept;
    DeferredSync& operator=(DeferredSync&& other) noexcept;
    // Syncs what was left (a path that threw before flush()), ignoring failures.
    ~DeferredSync();

    // `file` is synced; with `renamed`, its directory too (the rename that put it there).
    void add(const std::filesystem::path& file, bool renamed);
    // fsyncs each file, then each directory; Error(Exit::input) names what failed.
    void flush();

private:
    std::vector<std::filesystem::path> files_;
    std::vector<std::filesystem::path> dirs_;
};

// Writes `bytes` to a temporary file in the target's directory, fsyncs it, renames it over
// `target` and fsyncs the directory. The mode is `mode` when given, else the existing
// file's mode, else 0666 minus the umask. On failure the temporary file is removed, the
// target is untouched, and Error(Exit::input) names the path.
void write_file_atomic(const std::filesystem::path& target, std::string_view bytes,
                       std::optional<mode_t> mode = std::nullopt);

// write_file_atomic without the syncs, for a derived file kitty can make again (a cache): a
// kill leaves the old bytes, the new ones or no file, and a crash of the machine may lose
// it; never a part of either.
void write_derived_file(const std::filesystem::path& target, std::string_view bytes);

// write_file_atomic unless `target` already holds exactly `bytes` (no write, no sync);
// returns whether it wrote.
bool write_file_atomic_if_changed(const std::filesystem::path& target, std::string_view bytes);

// Removes the temporary files a killed writer of `target` left beside it
// (.<name>.kitty-XXXXXX). Only a caller holding the lock every writer of `target` takes may
// call it: without that lock a temporary file may belong to a writer still at work.
// Appends `bytes` with one write(2) (O_APPEND, so concurrent appenders' records never
// interleave) and fsyncs, or leaves the fsync to `later`; creates the file and its
// directory when missing.
void append_file(const std::filesystem::path& path, std::string_view bytes,
                 DeferredSync* later = nullptr);

// Whether a file name is one of write_file_atomic's temporaries (".<name>.kitty-XXXXXX"):
// never a change of anyone's, whatever a status scan sees for the moment it exists.
bool is_atomic_write_temporary(std::string_view file_name);

void remove_stale_temporaries(const std::filesystem::path& target);

// write_file_atomic in two steps, for a caller that must know the new content is written
// before it does something else: the constructor writes and fsyncs the temporary file
// (so a full disk fails here), replace() renames it over the target and syncs the
// directory. Destroyed before replace(), it removes the temporary file. With `later`, both
// syncs are left to it: for a derived file (status.json), whose bytes after a crash may be
// the old ones until its next write.
class PendingFile {
public:
    PendingFile(std::filesystem::path target, std::string_view bytes,
                std::optional<mode_t> mode = std::nullopt, DeferredSync* later = nullptr);
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;
    ~PendingFile();

    void replace();

private:
    std::filesystem::path target_;
    std::string temp_; // empty once renamed
    DeferredSync* later_;
};

// Several files written as one change. stage() writes each new content to a temporary file
// beside its target, creating missing directories; commit() makes them durable with one
// syncfs (unless made with Durability::rename_only), renames each over its target and syncs
// each directory. Until commit, any failure or destruction removes the temporary files and
// the directories stage() created, so no target changes. Targets are replaced in staging
// order.
class AtomicFileSet {
public:
    enum class Durability {
        synced,
        // Each file is still replaced whole, but nothing waits for the disk: for a checkout
        // of content the repository holds, which git's own checkout does not sync either.
        rename_only,
    };
    explicit AtomicFileSet(Durability durability = Durability::synced) : durability_(durability) {}
    AtomicFileSet(const AtomicFileSet&) = delete;
    AtomicFileSet& operator=(const AtomicFileSet&) = delete;
    ~AtomicFileSet();

    void stage(const std::filesystem::path& target, std::string_view bytes,
               std::optional<mode_t> mode = std::nullopt);
    void commit();

private:
    struct Staged {
        std::filesystem::path target;
        std::string temp;
    };
    void abort() noexcept;

    std::vector<Staged> staged_;
    std::vector<std::filesystem::path> created_dirs_; // in creation order
    Durability durability_;
    bool committed_ = false;
};

} // namespace kitty
