// libFuzzer target: a stdin document for `kitty-lanes compute -` through compute_lanes.
// Never a crash (only kitty::Error); every laned WP is in exactly one lane, lane-planning
// is last, and the lanes.json written reads back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "kitty/error.hpp"
#include "kitty/lane_inputs.hpp"
#include "kitty/lanes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    kitty::LanesManifest m;
    kitty::LaneSource source;
    try {
        source = kitty::lane_source_from_json(kitty::parse_json(bytes, "<fuzz>"), "<fuzz>");
        m = kitty::compute_lanes(source.inputs);
    } catch (const kitty::Error&) {
        return 0;
    }
    std::set<std::string> laned;
    for (std::size_t i = 0; i < m.lanes.size(); ++i) {
        if (m.lanes[i].is_planning() && i + 1 != m.lanes.size()) {
            std::abort();
        }
        for (const std::string& wp : m.lanes[i].wp_ids) {
            if (!laned.insert(wp).second) {
                std::abort();
            }
        }
    }
    for (const auto& [wp, deps] : source.inputs.graph) {
        if (!laned.count(wp)) {
            std::abort();
        }
    }
    const std::string written = kitty::serialize_lanes(m);
    try {
        if (kitty::serialize_lanes(kitty::parse_lanes_file(written, "lanes.json").manifest) !=
            written) {
            std::abort();
        }
    } catch (const kitty::Error&) {
        std::abort();
    }
    return 0;
}
