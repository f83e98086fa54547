// Reading text files: UTF-8 validation, newline normalisation, BOM policy.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kitty {

// Byte offset of the first byte that does not start or continue a valid UTF-8 sequence
// (overlong forms, surrogates and values above U+10FFFF are invalid), or nullopt.
std::optional<std::size_t> first_invalid_utf8(std::string_view bytes);

// Error(Exit::input, "INVALID_UTF8") naming `path`, the byte offset and the line, unless
// `bytes` is valid UTF-8.
void require_utf8(std::string_view bytes, const std::filesystem::path& path);

// Decodes one code point at `pos` of valid UTF-8 and advances `pos`.
char32_t next_code_point(std::string_view utf8, std::size_t& pos);

// CRLF and lone CR become LF, as Python's universal-newline text mode reads them.
std::string normalize_newlines(std::string_view text);

// What to do with a leading U+FEFF: Python's "utf-8" keeps it as a character,
// "utf-8-sig" drops it. Each spec page says which one a file is read with.
enum class Bom { keep, strip };

// The raw bytes of a file; a missing or unreadable file is Error(Exit::input).
std::string read_file_bytes(const std::filesystem::path& path);
// Whether the file at `path` holds exactly `bytes`: a file of another size is not read, and
// one of the same size is compared a piece at a time, with no copy of it kept. A file that
// cannot be read holds nothing.
bool file_holds(const std::filesystem::path& path, std::string_view bytes);
// Everything `in` holds, or nullopt once it holds more than `limit` bytes (reading stops
// there, so a huge or endless input costs at most `limit` bytes).
std::optional<std::string> read_at_most(std::istream& in, std::size_t limit);

// A text file read as Python's read_text does: valid UTF-8 (else Error(Exit::input)
// "INVALID_UTF8" naming the byte offset and line), newlines normalised, BOM per `bom`.
std::string read_text_file(const std::filesystem::path& path, Bom bom);

// Python's str.isspace() for one code point.
bool is_py_space(char32_t c);

// ASCII classes, as RE2's \d and \w and as hand-written matchers of ASCII patterns need them.
inline bool is_ascii_digit(char c) {
    return c >= '0' && c <= '9';
}
inline bool is_ascii_alnum(char c) {
    return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// Whether every byte of `s` is an ASCII digit (true for "").
inline bool all_ascii_digits(std::string_view s) {
    for (const char c : s) {
        if (!is_ascii_digit(c)) {
            return false;
        }
    }
    return true;
}

// Python's str.strip() on valid UTF-8 (Unicode whitespace, not only ASCII).
std::string_view py_strip(std::string_view s);

// The items with `separator` between them ("a, b, c").
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// Calls `line` with the 1-based number and the py_strip'ed text of each line of `text`
// ("\n"-separated) that is not blank, as line-per-record readers (JSON Lines) read.
void for_each_stripped_line(std::string_view text,
                            const std::function<void(int number, std::string_view line)>& line);

// Appends the UTF-8 encoding of `c` (a Unicode scalar value).
void append_utf8(std::string& out, char32_t c);

// Python's repr() of a str: quotes chosen as Python chooses them, \\ \t \n \r and the
// quote escaped, non-printable characters as \xhh, \uhhhh or \Uhhhhhhhh.
std::string python_repr(std::string_view utf8);

// Python's repr() of a list of str: ['a', 'b'].
std::string python_list_repr(const std::vector<std::string>& items);

// A Python `re` pattern for RE2: \s and \d become Python's Unicode classes (str.isspace()
// code points, category Nd), inside a [...] class too; everything else is kept. (\b needs
// handling by the caller.)
std::string python_regex(std::string_view pattern);

// Python's str.splitlines() on valid UTF-8: \n, \r\n, \r, \v, \f, \x1c-\x1e, U+0085,
// U+2028 and U+2029 end a line; no empty last line for a trailing terminator.
std::vector<std::string_view> python_splitlines(std::string_view text);

} // namespace kitty
