#include "kitty/shared_library.hpp"

#include <dlfcn.h>

#include "kitty/error.hpp"

namespace kitty {

SharedLibrary::SharedLibrary(const std::string& soname, const std::string& package)
    : handle_(::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)), soname_(soname) {
    if (handle_ == nullptr) {
        const char* why = ::dlerror();
        throw Error(Exit::internal, "LIBRARY_UNAVAILABLE",
                    "cannot load " + soname + ": " + (why != nullptr ? why : "unknown error"),
                    "install the Debian package " + package);
    }
}

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
