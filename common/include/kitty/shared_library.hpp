// A system library loaded on first use (dlopen), so a tool that never touches git or the
// network never pays the dynamic loader for libgit2's or libcurl's dependency chains; or,
// for a tool that links it in (the agent loop's tools link libgit2's archive), the
// program's own copy.
#pragma once

#include <string>

namespace kitty {

class SharedLibrary {
public:
    // Loads `soname` (e.g. "libgit2.so.1.5"); failure is Error(Exit::internal,
    // "LIBRARY_UNAVAILABLE") naming the library and the Debian package that ships it.
    SharedLibrary(const std::string& soname, const std::string& package);
    // The program's own copy when it exports `linked_symbol` (linked in), else `soname`.
    SharedLibrary(const std::string& soname, const std::string& package, const char* linked_symbol);
    SharedLibrary(const SharedLibrary&) = delete;
    SharedLibrary& operator=(const SharedLibrary&) = delete;
    // The library stays mapped for the life of the process: resolved function pointers
    // are kept in statics and must never dangle.
    ~SharedLibrary() = default;

    // The address of `name`; a missing symbol is Error(Exit::internal).
    void* symbol(const char* name) const;

    template <typename Function> Function function(const char* name) const {
        return reinterpret_cast<Function>(symbol(name));
    }

private:
    void* handle_;
    std::string soname_;
};

} // namespace kitty
