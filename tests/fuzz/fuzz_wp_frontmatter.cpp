// libFuzzer target: the WP frontmatter reader never crashes (only kitty::Error), and
// whatever it accepts is written back into a file it reads to the same values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kitty/error.hpp"
#include "kitty/wp_frontmatter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    kitty::WpFrontmatter fm;
    try {
        fm = kitty::parse_wp_file(bytes, "WP01-fuzz.md");
    } catch (const kitty::Error&) {
        return 0;
    }
    const std::string written = kitty::serialize_wp_file(fm);
    try {
        if (kitty::parse_wp_file(written, "WP01-fuzz.md").to_json() != fm.to_json()) {
            std::abort();
        }
    } catch (const kitty::Error&) {
        std::abort(); // kitty wrote a file it cannot read back
    }
    return 0;
}
