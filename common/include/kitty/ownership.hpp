// Ownership inference for WP files that declare none (3.1.1's ownership/inference.py):
// finalize writes it into the frontmatter, the status report uses the execution mode.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kitty {

// infer_ownership of 3.1.1 (ownership/inference.py) over a WP file's whole text.
struct InferredOwnership {
    std::string execution_mode; // code_change or planning_artifact
    std::vector<std::string> owned_files;
    std::string authoritative_surface;
    std::optional<std::string> warning; // the broad src/** fallback
};
InferredOwnership infer_ownership(const std::string& wp_text, const std::string& mission_slug);

// infer_execution_mode of 3.1.1: planning_artifact iff the text has a planning signal
// (kitty-specs/, spec.md, …) and no code signal (src/, tests/, .py, …), else code_change.
std::string infer_execution_mode(const std::string& wp_text);

} // namespace kitty
