// libFuzzer target: the tasks.md parser never crashes, and the explained parse always
// agrees with the plain 3.1.1 map.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kitty/tasks_md.hpp"
#include "kitty/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (kitty::first_invalid_utf8(bytes)) {
        return 0; // rejected before parsing (exit 3)
    }
    const std::string text = kitty::normalize_newlines(bytes);
    const kitty::TasksAnalysis analysis = kitty::analyse_tasks_md(text, "fuzz");
    if (analysis.dependency_map() != kitty::parse_dependencies(text)) {
        std::abort();
    }
    return 0;
}
