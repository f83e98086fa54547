#include "kitty/shared_library.hpp"

#include <dlfcn.h>

#include "kitty/error.hpp"

namespace kitty {
namespace {

void* load(const std::string& soname, const std::string& package) {
    // Lazy binding: libgit2 and its dozen libraries have thousands of functions, of which a
    // command calls a few; binding them all at load was a fifth of a workflow call's CPU.
    // The functions kitty uses are looked up (and so checked) at once, by `symbol`.
    void* handle = ::dlopen(soname.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        throw Error(Exit::internal, "LIBRARY_UNAVAILABLE",
                    "cannot load " + soname + ": " + (why != nullptr ? why : "unknown error"),
                    "install the Debian package " + package);
    }
    return handle;
}

} // namespace

SharedLibrary::SharedLibrary(const std::string& soname, const std::string& package)
    : handle_(load(soname, package)), soname_(soname) {}

SharedLibrary::SharedLibrary(const std::string& soname, const std::string& package,
                             const char* linked_symbol)
    : handle_(::dlsym(RTLD_DEFAULT, linked_symbol) != nullptr ? RTLD_DEFAULT
                                                              : load(soname, package)),
      soname_(soname) {}

void* SharedLibrary::symbol(const char* name) const {
    ::dlerror();
    void* address = ::dlsym(handle_, name);
    if (address == nullptr) {
        throw Error(Exit::internal, "LIBRARY_UNAVAILABLE",
                    soname_ + " has no symbol " + name + " (an incompatible version?)",
                    "reinstall kitty against the installed " + soname_);
    }
    return address;
}

} // namespace kitty
