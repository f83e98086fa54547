// Three-way merges of kitty's own mission files (issue 21 §3), so a conflict in them never
// reaches an agent: a WP file merges field by field (frontmatter keys, `history` entries and
// activity-log lines as a union), tasks.md with its subtask ticks merged (done wins). Each
// returns nullopt when both sides changed the same thing differently: then the file stays
// conflicted for a person or a resolve step.
#pragma once

#include <optional>
#include <string>

namespace kitty {

std::optional<std::string> merge_wp_files(const std::string& base, const std::string& ours,
                                          const std::string& theirs);

std::optional<std::string> merge_tasks_md(const std::string& base, const std::string& ours,
                                          const std::string& theirs);

} // namespace kitty
