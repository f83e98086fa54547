// The credential store and the parsing rules of ../shared/spec/auth.md §1.2-1.4.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "kitty/auth.hpp"
#include "kitty/error.hpp"
#include "process.hpp"

using kitty::parse_expiry;
using kitty::test::slurp;
using kitty::test::TempDir;
using kitty::test::write_fixture;

namespace {

kitty::AuthPaths paths_in(const std::filesystem::path& home) {
    const auto dir = home / ".spec-kitty";
    return {dir, dir / "credentials", dir / "credentials.lock", dir / "config.toml"};
}

kitty::Credentials sample() {
    kitty::Credentials c;
    c.access = "a.b.c";
    c.refresh = "r\"x\\y";
    c.access_expires_at = "2026-04-09T09:15:07.123456+00:00";
    c.refresh_expires_at = "2026-04-16T09:00:07+00:00";
    c.username = "user@example.com";
    c.team_slug = "my-team";
    c.server_url = "https://test.example.com";
    return c;
}

} // namespace

// §1.2: the exact bytes toml 0.10.2 writes for this session (verified in the spec).
TEST(CredentialStore, WritesThe311Layout) {
    TempDir home;
    const kitty::CredentialStore store(paths_in(home.path()));
    store.save(sample());
    EXPECT_EQ(slurp(home / ".spec-kitty/credentials"),
              "[tokens]\naccess = \"a.b.c\"\nrefresh = \"r\\\"x\\\\y\"\n"
              "access_expires_at = \"2026-04-09T09:15:07.123456+00:00\"\n"
              "refresh_expires_at = \"2026-04-16T09:00:07+00:00\"\n\n"
              "[user]\nusername = \"user@example.com\"\nteam_slug = \"my-team\"\n\n"
              "[server]\nurl = \"https://test.example.com\"\n");
    struct stat st {};
    ASSERT_EQ(::stat((home / ".spec-kitty").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((home / ".spec-kitty/credentials").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto back = store.load();
    ASSERT_TRUE(back);
    EXPECT_EQ(back->refresh, "r\"x\\y");
    EXPECT_EQ(back->team_slug, "my-team");
}

// toml 0.10.2 writes strings from Python's repr(): control characters as \u00NN,
// non-printable ones as \uNNNN, everything else as it is; the result is valid TOML.
TEST(CredentialStore, EscapesAsTomlDumps) {
    TempDir home;
    const kitty::CredentialStore store(paths_in(home.path()));
    kitty::Credentials c = sample();
    c.access = "a\x08"
               "b\tc\x7f\u200b\u00e9 it's";
    store.save(c);
    const std::string text = slurp(home / ".spec-kitty/credentials");
    EXPECT_NE(text.find("access = \"a\\u0008b\\tc\\u007f\\u200b\u00e9 it's\"\n"), std::string::npos)
        << text;
    EXPECT_EQ(store.load()->access, c.access);
}

TEST(CredentialStore, KeepsWhatItDoesNotOwn) {
    TempDir home;
    write_fixture(home / ".spec-kitty/credentials",
                  "[tokens]\naccess = \"old\"\nextra = \"kept\"\n\n"
                  "[tracker.providers.github]\ntoken = \"t\"\n");
    const kitty::CredentialStore store(paths_in(home.path()));
    store.save(sample());
    const std::string text = slurp(home / ".spec-kitty/credentials");
    EXPECT_NE(text.find("[tracker.providers.github]\ntoken = 't'"), std::string::npos) << text;
    EXPECT_NE(text.find("refresh_expires_at = \"2026-04-16T09:00:07+00:00\"\nextra = 'kept'\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("\"old\""), std::string::npos);
    EXPECT_TRUE(store.clear());
    const std::string left = slurp(home / ".spec-kitty/credentials");
    EXPECT_EQ(left.find("[tokens]"), std::string::npos);
    EXPECT_NE(left.find("token = 't'"), std::string::npos);
    EXPECT_FALSE(store.load());
}

TEST(CredentialStore, ConfiguredServer) {
    TempDir home;
    const kitty::CredentialStore store(paths_in(home.path()));
    EXPECT_EQ(store.configured_server(), "https://spec-kitty-dev.fly.dev");
    write_fixture(home / ".spec-kitty/config.toml", "[sync]\nserver_url = \"https://x.test\"\n");
    EXPECT_EQ(store.configured_server(), "https://x.test");
    write_fixture(home / ".spec-kitty/config.toml", "[sync\n");
    EXPECT_EQ(store.configured_server(), "https://spec-kitty-dev.fly.dev");
}

// §1.3 _parse_expiry: the verified accepted and rejected forms.
TEST(ParseExpiry, PythonFromisoformatForms) {
    const auto at = [](const char* s) { return parse_expiry(s).value_or(kitty::UtcTime{-1, -1}); };
    const std::int64_t y2099 = 4070908800; // 2099-01-01T00:00:00Z
    EXPECT_EQ(at("2099-01-01T00:00:00").seconds, y2099);
    EXPECT_EQ(at("2099-01-01T00:00:00Z").seconds, y2099);
    EXPECT_EQ(at("2099-01-01T05:30:00+05:30").seconds, y2099);
    EXPECT_EQ(at("2099-01-01T00:00:00+0000").seconds, y2099);
    EXPECT_EQ(at("2099-01-01").seconds, y2099);
    EXPECT_EQ(at("2099-01-01 00:00:00").seconds, y2099);
    EXPECT_EQ(at("20990101T000000").seconds, y2099);
    EXPECT_EQ(at("2099-01-01T00:00").seconds, y2099);
    EXPECT_EQ(at("2099-01-01T00:00:00.1234567").microseconds, 123456);
    EXPECT_EQ(at("2099-01-01T00:00:00.5").microseconds, 500000);
    for (const char* bad :
         {"2099-01-01T24:00:00", "garbage", "", "2099-13-01", "2099-01-01T00:00:00+25:00"}) {
        EXPECT_FALSE(parse_expiry(bad)) << bad;
    }
}

// §1.4 lifetimes: truthiness fall-through and int() coercion.
TEST(TokenLifetime, CoercesAsPythonInt) {
    using kitty::Json;
    const auto life = [](const char* json) {
        return kitty::token_lifetime(Json::parse(json), "access_lifetime", "expires_in", 900);
    };
    EXPECT_EQ(life(R"({})"), 900);
    EXPECT_EQ(life(R"({"access_lifetime": 60})"), 60);
    EXPECT_EQ(life(R"({"access_lifetime": 0, "expires_in": 30})"), 30);
    EXPECT_EQ(life(R"({"access_lifetime": 0})"), 900);
    EXPECT_EQ(life(R"({"access_lifetime": 900.7})"), 900);
    EXPECT_EQ(life(R"({"access_lifetime": " 1_000 "})"), 1000);
    EXPECT_EQ(life(R"({"access_lifetime": "-5"})"), -5);
    EXPECT_EQ(life(R"({"access_lifetime": "900.7"})"), 900);
    EXPECT_EQ(life(R"({"access_lifetime": "abc"})"), 900);
    EXPECT_EQ(life(R"({"access_lifetime": true})"), 1);
    EXPECT_EQ(life(R"({"access_lifetime": [1]})"), 900);
    EXPECT_EQ(life(R"({"access_lifetime": null, "expires_in": "45"})"), 45);
}

// D10: a server lifetime was added unchecked (signed overflow, and a double like 1e300
// cast to int64), writing expiries such as "-19742-12-19T…" that end the session. Python
// overflows outside years 1-9999 too; kitty refuses the reply before anything is saved.
TEST(TokenLifetime, AbsurdLifetimesAreAMalformedReply) {
    using kitty::Json;
    const kitty::UtcTime now{1775735141, 0};
    EXPECT_EQ(kitty::expiry_after(now, 900), "2026-04-09T12:00:41+00:00");
    EXPECT_EQ(kitty::expiry_after({0, 0}, 253402300799), "9999-12-31T23:59:59+00:00");
    EXPECT_EQ(kitty::expiry_after({0, 0}, -62135596800), "0001-01-01T00:00:00+00:00");
    const auto life = [](const char* json) {
        return kitty::token_lifetime(Json::parse(json), "access_lifetime", "expires_in", 900);
    };
    for (const std::int64_t seconds :
         {life(R"({"access_lifetime": 9223372036854775807})"),
          life(R"({"access_lifetime": 18446744073709551615})"),
          life(R"({"access_lifetime": 1e300})"), life(R"({"access_lifetime": -1e300})"),
          life(R"({"access_lifetime": "99999999999999999999"})"),
          life(R"({"access_lifetime": 300000000000})")}) {
        try {
            kitty::expiry_after(now, seconds);
            ADD_FAILURE() << seconds << " s accepted";
        } catch (const kitty::Error& e) {
            EXPECT_EQ(e.exit(), kitty::Exit::temporary);
            EXPECT_EQ(e.code(), "INVALID_RESPONSE");
        }
    }
}
