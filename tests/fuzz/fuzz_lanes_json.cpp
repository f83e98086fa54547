// libFuzzer target: the lanes.json reader never crashes (only kitty::Error), and what it
// accepts, written in the 3.1.1 format, reads back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kitty/error.hpp"
#include "kitty/lanes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    kitty::LanesFile file;
    try {
        file = kitty::parse_lanes_file(bytes, "lanes.json");
    } catch (const kitty::Error&) {
        return 0;
    }
    const std::string written = kitty::serialize_lanes(file.manifest);
    try {
        if (kitty::serialize_lanes(kitty::parse_lanes_file(written, "lanes.json").manifest) !=
            written) {
            std::abort();
        }
    } catch (const kitty::Error&) {
        std::abort(); // kitty wrote a lanes.json it cannot read back
    }
    return 0;
}
