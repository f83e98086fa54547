// JSON in and out. Output is byte-compatible with Python's json.dumps so files that
// spec-kitty also reads (and the documents tools print) match the reference exactly.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kitty {

using Json = nlohmann::ordered_json;

struct PyJsonStyle {
    int indent = -1;          // -1: one line with ", " and ": " separators
    bool ensure_ascii = true; // escape non-ASCII (and 0x7F) as lower-case \uXXXX
    bool sort_keys = false;
};

// json.dumps(value, indent=…, ensure_ascii=…, sort_keys=…) without the trailing newline.
std::string dump_python(const Json& value, PyJsonStyle style = {});

// json.dumps of one string, appended to `out`: quoted, with Python's escapes.
void append_python_string(std::string& out, const std::string& text, bool ensure_ascii);

// repr(float) as Python 3 prints it: shortest round-trip digits, "1e+16", "30.0".
std::string python_float_repr(double value);

// How deep parse_json lets arrays and objects nest. Every reader of untrusted JSON goes
// through parse_json, so nothing kitty holds is deeper and the recursive writers
// (dump_python, nlohmann's dump) stay far from the end of the stack.
inline constexpr int kMaxJsonDepth = 512;

// Parses a JSON document. A syntax error, nesting deeper than kMaxJsonDepth, or a number
// out of range (1e400, an integer of 10,000 digits) is Error(Exit::input, "INVALID_JSON")
// naming `source` and the line.
Json parse_json(std::string_view text, const std::filesystem::path& source);

// Reads and parses a UTF-8 JSON file.
Json read_json_file(const std::filesystem::path& path);

// Typed reads of an untrusted document: a value of another type than the reader expects
// is Error(Exit::input, code) naming the source and the value ("wp_files[0].readable must
// be true or false"), never nlohmann's type_error, which would be an internal error.
class JsonInput {
public:
    // Messages read "<lead><what>"; the lead defaults to "<source>: ".
    JsonInput(std::filesystem::path source, std::string code, std::string hint,
              std::optional<std::string> lead = std::nullopt);

    [[noreturn]] void fail(const std::string& what) const;

    // `value` as the type asked for; `what` names it in the error.
    const Json& object(const Json& value, const std::string& what) const;
    const Json& array(const Json& value, const std::string& what) const;
    const std::string& text(const Json& value, const std::string& what) const;
    bool boolean(const Json& value, const std::string& what) const;
    int integer(const Json& value, const std::string& what) const; // within int's range
    std::vector<std::string> strings(const Json& value, const std::string& what) const;

    // A member of `object` (which must be an object); nullptr when absent or null.
    static const Json* member(const Json& object, const std::string& key);
    // A member that must be there (null included); `where` names the object.
    const Json& required(const Json& object, const std::string& key,
                         const std::string& where) const;

private:
    std::filesystem::path source_;
    std::string code_;
    std::string hint_;
    std::string lead_;
};

} // namespace kitty
