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

namespace {

// The Error parse_json throws for `text`, or a failure when it throws none.
kitty::Error parse_error(const std::string& text) {
    try {
        kitty::parse_json(text, "doc.json");
    } catch (const kitty::Error& e) {
        return e;
    }
    ADD_FAILURE() << "accepted: " << text.substr(0, 80);
    return kitty::Error(kitty::Exit::ok, "", "");
}

} // namespace

// D02: nlohmann parses any depth, but its dump (and dump_python) recurse; a 100,000-deep
// value was a stack overflow. Parsing stops at kMaxJsonDepth.
TEST(ParseJson, NestingDeeperThanTheLimitIsInvalidJson) {
    const int limit = kitty::kMaxJsonDepth;
    const auto nested = [](int depth) {
        return "{\"a\": 1,\n\"x\": " + std::string(static_cast<std::size_t>(depth - 1), '[') +
               std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
    };
    EXPECT_EQ(kitty::parse_json(nested(limit), "doc.json")["a"], 1);
    const kitty::Error e = parse_error(nested(limit + 1));
    EXPECT_EQ(e.exit(), kitty::Exit::input);
    EXPECT_EQ(e.code(), "INVALID_JSON");
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("nested deeper than 512"), std::string::npos) << e.what();
    EXPECT_EQ(parse_error(std::string(100000, '[') + std::string(100000, ']')).code(),
              "INVALID_JSON");
    // Brackets inside strings are text, not nesting.
    const Json text = kitty::parse_json("[\"" + std::string(1000, '[') + "\\\"\"]", "doc.json");
    EXPECT_EQ(text[0].get<std::string>().size(), 1001u);
}

// D03: a number out of double's range was nlohmann's out_of_range, exit 70.
TEST(ParseJson, NumbersOutOfRangeAreInvalidJsonWithTheirLine) {
    for (const std::string& number :
         {std::string("1e400"), std::string("-1e999999"), std::string(10000, '7')}) {
        const kitty::Error e = parse_error("{\n\"mission_slug\": \"s\",\n\"x\": " + number + "}");
        EXPECT_EQ(e.exit(), kitty::Exit::input) << number.substr(0, 10);
        EXPECT_EQ(e.code(), "INVALID_JSON");
        EXPECT_EQ(e.line(), 3);
        EXPECT_NE(std::string(e.what()).find("number overflow"), std::string::npos) << e.what();
        EXPECT_LT(std::string(e.what()).size(), 300u) << "the message quotes a cut token";
    }
    EXPECT_EQ(kitty::parse_json("[1e308, 18446744073709551615]", "doc.json").size(), 2u);
}

// D04: wrong types are exit 3 naming the value, never nlohmann's type_error.
TEST(JsonInput, WrongTypesNameTheValue) {
    const kitty::JsonInput in("in.json", "BAD_INPUT", "fix it");
    const Json doc = kitty::parse_json(
        R"({"s": "x", "b": true, "i": 7, "big": 3000000000, "l": ["a", 1], "n": null})", "in.json");
    EXPECT_EQ(in.text(doc["s"], "s"), "x");
    EXPECT_TRUE(in.boolean(doc["b"], "b"));
    EXPECT_EQ(in.integer(doc["i"], "i"), 7);
    EXPECT_EQ(kitty::JsonInput::member(doc, "n"), nullptr);
    EXPECT_EQ(kitty::JsonInput::member(doc, "absent"), nullptr);
    EXPECT_EQ(kitty::JsonInput::member(Json::array(), "s"), nullptr);
    const auto message = [&](const auto& read) {
        try {
            read();
        } catch (const kitty::Error& e) {
            EXPECT_EQ(e.exit(), kitty::Exit::input);
            EXPECT_EQ(e.code(), "BAD_INPUT");
            EXPECT_EQ(e.path(), "in.json");
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message([&] { in.boolean(doc["s"], "wp_files[0].readable"); }),
              "in.json: wp_files[0].readable must be true or false");
    EXPECT_EQ(message([&] { in.text(doc["i"], "path"); }), "in.json: path must be a string");
    EXPECT_EQ(message([&] { in.integer(doc["big"], "version"); }),
              "in.json: version must be an integer");
    EXPECT_EQ(message([&] { in.strings(doc["l"], "files"); }),
              "in.json: files must be a list of strings");
    EXPECT_EQ(message([&] { in.object(doc["l"], "the manifest"); }),
              "in.json: the manifest must be an object");
    EXPECT_EQ(message([&] { in.array(doc["n"], "files"); }), "in.json: files must be a list");
    EXPECT_EQ(message([&] { in.required(doc, "version", "lanes.json"); }),
              "in.json: lanes.json has no \"version\"");
}
