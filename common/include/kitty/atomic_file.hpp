// Crash-safe file replacement: the target always holds either its old or its new bytes.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string_view>

namespace kitty {

// Writes `bytes` to a temporary file in the target's directory, fsyncs it, renames it over
// `target` and fsyncs the directory. The mode is `mode` when given, else the existing
// file's mode, else 0666 minus the umask. On failure the temporary file is removed, the
// target is untouched, and Error(Exit::input) names the path.
void write_file_atomic(const std::filesystem::path& target, std::string_view bytes,
                       std::optional<mode_t> mode = std::nullopt);

} // namespace kitty
