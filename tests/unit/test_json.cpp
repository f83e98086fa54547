// Expected strings below were produced by CPython 3.11's json.dumps / repr, the
// reference serialiser spec-kitty uses.
#include <gtest/gtest.h>

#include "kitty/error.hpp"
#include "kitty/json.hpp"

using kitty::dump_python;
using kitty::Json;
using kitty::python_float_repr;

namespace {

Json sample() {
    Json v;
    v["b"] = 1;
    v["a"] = Json::array({1, 2.5, nullptr, true, false, Json::object()});
    v["\xc3\xa9"] = "\xc3\xbc\x7f\n\t\"\\\x01";
    v["emoji"] = "\xf0\x9f\x98\x80";
    v["e"] = Json::array();
    v["f"] = 1e16;
    v["g"] = 1.5e-05;
    v["h"] = 30.0;
    v["i"] = 0.1;
    v["j"] = -0.0001;
    v["k"] = 123456789012345678.0;
    v["l"] = 1e-4;
    return v;
}

} // namespace

TEST(DumpPython, DefaultIsOneLineAsciiInInsertionOrder) {
    EXPECT_EQ(
        dump_python(sample()),
        R"({"b": 1, "a": [1, 2.5, null, true, false, {}], "\u00e9": "\u00fc\u007f\n\t\"\\\u0001", "emoji": "\ud83d\ude00", "e": [], "f": 1e+16, "g": 1.5e-05, "h": 30.0, "i": 0.1, "j": -0.0001, "k": 1.2345678901234568e+17, "l": 0.0001})");
}

TEST(DumpPython, IndentedRawUtf8SortedKeys) {
    const std::string expected = "{\n"
                                 "  \"a\": [\n"
                                 "    1,\n"
                                 "    2.5,\n"
                                 "    null,\n"
                                 "    true,\n"
                                 "    false,\n"
                                 "    {}\n"
                                 "  ],\n"
                                 "  \"b\": 1,\n"
                                 "  \"e\": [],\n"
                                 "  \"emoji\": \"\xf0\x9f\x98\x80\",\n"
                                 "  \"f\": 1e+16,\n"
                                 "  \"g\": 1.5e-05,\n"
                                 "  \"h\": 30.0,\n"
                                 "  \"i\": 0.1,\n"
                                 "  \"j\": -0.0001,\n"
                                 "  \"k\": 1.2345678901234568e+17,\n"
                                 "  \"l\": 0.0001,\n"
                                 "  \"\xc3\xa9\": \"\xc3\xbc\x7f\\n\\t\\\"\\\\\\u0001\"\n"
                                 "}";
    EXPECT_EQ(dump_python(sample(), {.indent = 2, .ensure_ascii = false, .sort_keys = true}),
              expected);
}

TEST(DumpPython, EmptyContainersStayCompactWhenIndented) {
    EXPECT_EQ(dump_python(Json::object(), {.indent = 2}), "{}");
    EXPECT_EQ(dump_python(Json::array(), {.indent = 2}), "[]");
    EXPECT_EQ(dump_python(Json{{"x", Json::array()}}, {.indent = 2}), "{\n  \"x\": []\n}");
}

TEST(PythonFloatRepr, MatchesCPython) {
    const std::pair<double, const char*> cases[] = {
        {30.0, "30.0"},
        {53.3, "53.3"},
        {0.1, "0.1"},
        {1e16, "1e+16"},
        {1.5e-05, "1.5e-05"},
        {1e22, "1e+22"},
        {123.456, "123.456"},
        {-2.5, "-2.5"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {1234567890123456.0, "1234567890123456.0"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.1 + 0.2, "0.30000000000000004"},
        {0.0, "0.0"},
    };
    for (const auto& [value, text] : cases) {
        EXPECT_EQ(python_float_repr(value), text) << value;
    }
}

TEST(ParseJson, SyntaxErrorNamesFileAndLine) {
    try {
        kitty::parse_json("{\n  \"a\": 1,\n  \"b\": oops\n}\n", "meta.json");
        FAIL() << "no error";
    } catch (const kitty::Error& e) {
        EXPECT_EQ(e.exit(), kitty::Exit::input);
        EXPECT_EQ(e.code(), "INVALID_JSON");
        EXPECT_EQ(e.line(), 3);
        EXPECT_EQ(e.path(), "meta.json");
        EXPECT_NE(std::string(e.what()).find("meta.json:3:"), std::string::npos);
    }
}

TEST(ParseJson, KeepsKeyOrderAndNumberKinds) {
    const Json j = kitty::parse_json(R"({"z": 1, "a": 0.0, "m": 79})", "x");
    EXPECT_EQ(dump_python(j), R"({"z": 1, "a": 0.0, "m": 79})");
}
