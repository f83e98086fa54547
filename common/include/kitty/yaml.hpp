// YAML as spec-kitty 3.1.1 reads and writes it with ruamel.yaml: yaml-cpp parses, plain
// scalars are typed by ruamel's YAML 1.2 resolver, and the emitter writes ruamel's block
// style (indent 2, sequences at the parent's column, its quoting rules, no wrapping).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kitty {

struct YamlEntry;

struct YamlNode {
    // What a scalar resolved to; `text` keeps its source spelling (strings: the value).
    enum class Kind { null, boolean, integer, floating, timestamp, string, sequence, mapping };

    Kind kind = Kind::null;
    std::string text;
    std::vector<YamlNode> items;    // sequence
    std::vector<YamlEntry> entries; // mapping, in document order
    std::vector<int> key_lines;     // mapping: 1-based line of each key
    int line = 0;                   // 1-based, in the parsed text

    bool is_scalar() const { return kind != Kind::sequence && kind != Kind::mapping; }
    static YamlNode string(std::string value);
    static YamlNode list(const std::vector<std::string>& values);
};

// A mapping entry (a struct, not std::pair, because YamlNode is incomplete here).
struct YamlEntry {
    std::string first;
    YamlNode second;
};

// The type ruamel's 1.2 resolver gives a plain (unquoted) scalar.
YamlNode::Kind resolve_plain_scalar(std::string_view text);

struct YamlError {
    std::string message;
    int line = 0; // 1-based, 0 when unknown
};

// Parses one YAML document; an empty document is a null node. Duplicate mapping keys are
// an error, as in ruamel. Throws YamlError.
YamlNode parse_yaml(const std::string& text);

// The block-style text of a mapping as ruamel dumps it (each line ends with '\n').
std::string emit_yaml_mapping(const YamlNode& mapping);

} // namespace kitty
