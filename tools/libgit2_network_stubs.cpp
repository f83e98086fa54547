// The agent loop's tools link libgit2's archive in (meson.build). Its SSH transport and its
// Negotiate (Kerberos) authentication for HTTP remotes would bring libssh2 with OpenSSL and
// GSSAPI (a shared library only, with seven more behind it): four times the relocations and
// twice the start-up of the rest of the tool, on every call; and its start-up would set TLS
// up, seeding mbedTLS's entropy pool. kitty's git work is local and never talks to a
// server, so these stand in for all three. libgit2's start-up calls libssh2_init and its TLS
// set-up, which succeed doing nothing; everything else fails as a refused connection would:
// a TLS stream, SSH session, agent or channel is never made, each other call is an error,
// and libgit2 reports the remote operation as failed.
#include <cstdint>

#include <git2/errors.h>
#include <git2/sys/stream.h>
#include <libssh2.h>

namespace {
constexpr std::uint32_t kGssFailure = 13u << 16; // GSS_S_FAILURE
constexpr int kSshFailure = LIBSSH2_ERROR_SOCKET_NONE;

int refuse_tls() {
    git_error_set_str(GIT_ERROR_SSL, "kitty's git works locally: TLS is not available");
    return -1;
}
} // namespace

extern "C" {

// libgit2's own TLS functions, which the linker sends here (--wrap).
int __wrap_git_mbedtls_stream_global_init(void) {
    return 0;
}
int __wrap_git_mbedtls_stream_new(git_stream**, const char*, const char*) {
    return refuse_tls();
}
int __wrap_git_mbedtls_stream_wrap(git_stream**, git_stream*, const char*) {
    return refuse_tls();
}

// GSSAPI (its header is not installed; C linkage matches by name, the returns are OM_uint32).
void* GSS_C_NT_HOSTBASED_SERVICE = nullptr;
std::uint32_t gss_delete_sec_context() {
    return kGssFailure;
}
std::uint32_t gss_display_status() {
    return kGssFailure;
}
std::uint32_t gss_import_name() {
    return kGssFailure;
}
std::uint32_t gss_indicate_mechs() {
    return kGssFailure;
}
std::uint32_t gss_init_sec_context() {
    return kGssFailure;
}
std::uint32_t gss_release_buffer() {
    return kGssFailure;
}
std::uint32_t gss_release_name() {
    return kGssFailure;
}
std::uint32_t gss_release_oid_set() {
    return kGssFailure;
}

// libssh2, with the signatures of its header.
int libssh2_init(int) {
    return 0;
}
void libssh2_exit(void) {}
LIBSSH2_SESSION* libssh2_session_init_ex(void* (*)(size_t, void**), void (*)(void*, void**),
                                         void* (*)(void*, size_t, void**), void*) {
    return nullptr;
}
void** libssh2_session_abstract(LIBSSH2_SESSION*) {
    return nullptr;
}
int libssh2_session_disconnect_ex(LIBSSH2_SESSION*, int, const char*, const char*) {
    return kSshFailure;
}
int libssh2_session_free(LIBSSH2_SESSION*) {
    return kSshFailure;
}
int libssh2_session_handshake(LIBSSH2_SESSION*, libssh2_socket_t) {
    return kSshFailure;
}
const char* libssh2_session_hostkey(LIBSSH2_SESSION*, size_t*, int*) {
    return nullptr;
}
int libssh2_session_last_error(LIBSSH2_SESSION*, char** message, int* length, int) {
    static char text[] = "SSH is not available in kitty";
    if (message != nullptr) {
        *message = text;
    }
    if (length != nullptr) {
        *length = static_cast<int>(sizeof text - 1);
    }
    return kSshFailure;
}
int libssh2_session_method_pref(LIBSSH2_SESSION*, int, const char*) {
    return kSshFailure;
}
void libssh2_session_set_blocking(LIBSSH2_SESSION*, int) {}
const char* libssh2_hostkey_hash(LIBSSH2_SESSION*, int) {
    return nullptr;
}
LIBSSH2_AGENT* libssh2_agent_init(LIBSSH2_SESSION*) {
    return nullptr;
}
int libssh2_agent_connect(LIBSSH2_AGENT*) {
    return kSshFailure;
}
int libssh2_agent_disconnect(LIBSSH2_AGENT*) {
    return kSshFailure;
}
void libssh2_agent_free(LIBSSH2_AGENT*) {}
int libssh2_agent_get_identity(LIBSSH2_AGENT*, libssh2_agent_publickey**,
                               libssh2_agent_publickey*) {
    return kSshFailure;
}
int libssh2_agent_list_identities(LIBSSH2_AGENT*) {
    return kSshFailure;
}
int libssh2_agent_userauth(LIBSSH2_AGENT*, const char*, libssh2_agent_publickey*) {
    return kSshFailure;
}
LIBSSH2_CHANNEL* libssh2_channel_open_ex(LIBSSH2_SESSION*, const char*, unsigned int, unsigned int,
                                         unsigned int, const char*, unsigned int) {
    return nullptr;
}
int libssh2_channel_close(LIBSSH2_CHANNEL*) {
    return kSshFailure;
}
int libssh2_channel_free(LIBSSH2_CHANNEL*) {
    return kSshFailure;
}
int libssh2_channel_process_startup(LIBSSH2_CHANNEL*, const char*, unsigned int, const char*,
                                    unsigned int) {
    return kSshFailure;
}
ssize_t libssh2_channel_read_ex(LIBSSH2_CHANNEL*, int, char*, size_t) {
    return kSshFailure;
}
ssize_t libssh2_channel_write_ex(LIBSSH2_CHANNEL*, int, const char*, size_t) {
    return kSshFailure;
}
void libssh2_channel_set_blocking(LIBSSH2_CHANNEL*, int) {}
LIBSSH2_KNOWNHOSTS* libssh2_knownhost_init(LIBSSH2_SESSION*) {
    return nullptr;
}
void libssh2_knownhost_free(LIBSSH2_KNOWNHOSTS*) {}
int libssh2_knownhost_readfile(LIBSSH2_KNOWNHOSTS*, const char*, int) {
    return kSshFailure;
}
int libssh2_knownhost_checkp(LIBSSH2_KNOWNHOSTS*, const char*, int, const char*, size_t, int,
                             libssh2_knownhost**) {
    return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
}
int libssh2_userauth_authenticated(LIBSSH2_SESSION*) {
    return 0;
}
char* libssh2_userauth_list(LIBSSH2_SESSION*, const char*, unsigned int) {
    return nullptr;
}
int libssh2_userauth_keyboard_interactive_ex(LIBSSH2_SESSION*, const char*, unsigned int,
                                             LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*))) {
    return kSshFailure;
}
int libssh2_userauth_password_ex(LIBSSH2_SESSION*, const char*, unsigned int, const char*,
                                 unsigned int, LIBSSH2_PASSWD_CHANGEREQ_FUNC((*))) {
    return kSshFailure;
}
int libssh2_userauth_publickey(LIBSSH2_SESSION*, const char*, const unsigned char*, size_t,
                               LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*)), void**) {
    return kSshFailure;
}
int libssh2_userauth_publickey_fromfile_ex(LIBSSH2_SESSION*, const char*, unsigned int, const char*,
                                           const char*, const char*) {
    return kSshFailure;
}
int libssh2_userauth_publickey_frommemory(LIBSSH2_SESSION*, const char*, size_t, const char*,
                                          size_t, const char*, size_t, const char*) {
    return kSshFailure;
}
}
