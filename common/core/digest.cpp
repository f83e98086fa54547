#include "kitty/digest.hpp"

#include <openssl/evp.h>

#include "kitty/error.hpp"
#include "kitty/shared_library.hpp"

namespace kitty {
namespace {

// libcrypto is loaded when init first hashes a file, so `kitty-init --version` and
// `--list-agents` never pay the dynamic loader for it.
struct LibCrypto {
    decltype(&::EVP_Digest) digest;
    decltype(&::EVP_sha256) sha256;
};

const LibCrypto& crypto() {
    static const LibCrypto api = [] {
        static const SharedLibrary library(KITTY_LIBCRYPTO_SONAME, "libssl3");
        return LibCrypto{library.function<decltype(&::EVP_Digest)>("EVP_Digest"),
                         library.function<decltype(&::EVP_sha256)>("EVP_sha256")};
    }();
    return api;
}

} // namespace

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (crypto().digest(bytes.data(), bytes.size(), digest, &size, crypto().sha256(), nullptr) !=
        1) {
        throw Error(Exit::internal, "DIGEST_FAILED", "SHA-256 failed in libcrypto");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xF];
    }
    return out;
}

} // namespace kitty
