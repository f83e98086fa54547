// libFuzzer target: any bytes as status.events.jsonl. The reader (a flat-line scanner with
// the full JSON parser behind it) never crashes, only kitty::Error; every event it accepts
// is written back in the 3.1.1 line format and reads back the same; the reducer and
// status.json accept whatever the reader accepted.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kitty/error.hpp"
#include "kitty/status.hpp"
#include "scratch_dir.hpp"

namespace {

std::filesystem::path scratch(const char* name) {
    static const kitty::fuzz::ScratchDir dir("kitty-fuzz-status");
    return dir.path() / name;
}

bool same(const kitty::StatusEvent& a, const kitty::StatusEvent& b) {
    return a.actor == b.actor && a.at == b.at && a.event_id == b.event_id &&
           a.evidence == b.evidence && a.execution_mode == b.execution_mode && a.force == b.force &&
           a.from_lane == b.from_lane && a.mission_slug == b.mission_slug &&
           a.policy_metadata == b.policy_metadata && a.reason == b.reason &&
           a.review_ref == b.review_ref && a.to_lane == b.to_lane && a.wp_id == b.wp_id;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = scratch("input.jsonl");
    std::ofstream(input, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    std::vector<kitty::StatusEvent> events;
    try {
        events = kitty::read_status_events(input);
    } catch (const kitty::Error&) {
        return 0;
    }
    std::string lines;
    for (const kitty::StatusEvent& e : events) {
        lines += e.line();
    }
    const auto output = scratch("output.jsonl");
    std::ofstream(output, std::ios::binary | std::ios::trunc) << lines;
    try {
        const auto again = kitty::read_status_events(output);
        if (again.size() != events.size()) {
            std::abort();
        }
        for (std::size_t i = 0; i < events.size(); ++i) {
            if (!same(events[i], again[i])) {
                std::abort();
            }
        }
    } catch (const kitty::Error&) {
        std::abort(); // kitty wrote an event line it cannot read back
    }
    const kitty::StatusSnapshot s = kitty::reduce_status(events);
    (void)kitty::serialize_status_json(s, "001", "software-dev");
    (void)kitty::status_progress(s);
    return 0;
}
