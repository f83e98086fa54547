// JSON in and out. Output is byte-compatible with Python's json.dumps so files that
// spec-kitty also reads (and the documents tools print) match the reference exactly.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

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

// repr(float) as Python 3 prints it: shortest round-trip digits, "1e+16", "30.0".
std::string python_float_repr(double value);

// Parses a JSON document; a syntax error is Error(Exit::input, "INVALID_JSON") naming
// `source` and the line.
Json parse_json(std::string_view text, const std::filesystem::path& source);

// Reads and parses a UTF-8 JSON file.
Json read_json_file(const std::filesystem::path& path);

} // namespace kitty
