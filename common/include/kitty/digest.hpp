// Content hashes for the files kitty records in manifests.
#pragma once

#include <string>
#include <string_view>

namespace kitty {

// The SHA-256 of `bytes` as 64 lower-case hex digits (OpenSSL's libcrypto).
std::string sha256_hex(std::string_view bytes);

} // namespace kitty
