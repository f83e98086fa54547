#include "kitty/cli.hpp"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "kitty/version.hpp"

namespace kitty {

std::string read_stdin() {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
}

CLI::Validator finite_range(double min, double max) {
    std::ostringstream description;
    description << "FLOAT in [" << min << " - " << max << "]";
    return CLI::Validator(
        [min, max](std::string& input) -> std::string {
            double value = 0;
            if (!CLI::detail::lexical_cast(input, value) || !std::isfinite(value) || value < min ||
                value > max) {
                std::ostringstream out;
                out << "Value " << input << " not a finite number in [" << min << " - " << max
                    << "]";
                return out.str();
            }
            return {};
        },
        description.str());
}

bool stdin_is_terminal() {
    return ::isatty(STDIN_FILENO) == 1;
}

std::optional<std::string> ask_terminal(const std::string& prompt, bool echo) {
    const bool tty = stdin_is_terminal();
    termios saved{};
    if (tty) {
        std::cerr << prompt << std::flush;
        if (!echo && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
            termios quiet = saved;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        }
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty && !echo) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << "\n";
    }
    return got ? std::optional(line) : std::nullopt;
}

Tool::Tool(std::string name, std::string description)
    : name_(std::move(name)), app_(std::move(description), name_) {
    app_.set_version_flag("--version", name_ + " " + std::string(version) + " (kitty; spec-kitty " +
                                           std::string(reference_version) + " formats)");
    app_.fallthrough();
    app_.footer("Output: one JSON document on stdout (--format text for people); diagnostics on "
                "stderr.\nExit status: 0 success, 1 check failed, 2 usage, 3 input not found or "
                "malformed, 4 conflict,\n5 authentication, 70 internal error, 74 output error "
                "(stdout not written), 75 temporary\nfailure (e.g. lock timeout).");
    app_.require_subcommand(0, 1);
    const std::map<std::string, Format> formats{{"json", Format::json}, {"text", Format::text}};
    app_.add_option("--format", format_, "Output: json (one document, the default) or text")
        ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
        ->option_text("json|text");
    const std::map<std::string, ColorMode> colors{
        {"auto", ColorMode::auto_}, {"always", ColorMode::always}, {"never", ColorMode::never}};
    app_.add_option("--color", color_,
                    "Colour in text diagnostics: auto (a terminal without NO_COLOR), always, "
                    "never; JSON never has colour")
        ->transform(CLI::CheckedTransformer(colors, CLI::ignore_case))
        ->option_text("auto|always|never");
}

bool Tool::color_stderr() const {
    switch (color_) {
    case ColorMode::always:
        return true;
    case ColorMode::never:
        return false;
    case ColorMode::auto_:
        break;
    }
    const char* no_color = std::getenv("NO_COLOR");
    return (no_color == nullptr || *no_color == '\0') && ::isatty(STDERR_FILENO) == 1;
}

void Tool::print_finding(const Finding& f) const {
    if (!f.stderr_line.empty()) {
        std::cerr << f.stderr_line << "\n";
        return;
    }
    std::string where = f.path.empty() ? name_ : f.path;
    if (!f.path.empty() && f.line > 0) {
        where += ":" + std::to_string(f.line);
    }
    std::string label = f.severity;
    if (color_stderr()) {
        label = (f.severity == "error" ? "\033[31m" : "\033[33m") + label + "\033[0m";
    }
    std::cerr << where << ": " << label << ": " << f.message << "\n";
}

int Tool::checked_stdout(int code) const {
    std::cout.flush();
    if (std::cout) {
        return code;
    }
    // A full disk or a closed pipe: whoever reads the output would get a truncated or
    // empty document, so this is no success (and no longer the command's own code).
    const int err = errno;
    std::cerr << name_ << ": error: cannot write the output to stdout"
              << (err != 0 ? std::string(": ") + std::strerror(err) : std::string()) << "\n";
    return static_cast<int>(Exit::output);
}

int Tool::fail(const Error& error) const {
    if (format_ == Format::json) {
        std::cout << dump_python(error_document(error)) << "\n";
    }
    std::string label = "error";
    if (color_stderr()) {
        label = "\033[31merror\033[0m";
    }
    std::cerr << name_ << ": " << label << ": " << error.what() << "\n";
    for (const std::string& note : error.notes()) {
        std::cerr << name_ << ":   " << note << "\n";
    }
    if (!error.hint().empty()) {
        std::cerr << name_ << ": hint: " << error.hint() << "\n";
    }
    return checked_stdout(static_cast<int>(error.exit()));
}

CLI::Option* Tool::non_empty(CLI::Option* option, std::string code) {
    non_empty_.emplace_back(option, std::move(code));
    return option;
}

int Tool::run(int argc, char** argv, const std::function<Outcome()>& action) {
    try {
        app_.parse(argc, argv);
    } catch (const CLI::Success& e) {
        // --help and --version: plain text on stdout, exit 0.
        return checked_stdout(app_.exit(e, std::cout, std::cerr));
    } catch (const CLI::ParseError& e) {
        return fail(Error(Exit::usage, "USAGE", e.what(), "run '" + name_ + " --help'"));
    }
    for (const auto& [option, code] : non_empty_) {
        const auto& given = option->results();
        if (std::any_of(given.begin(), given.end(), [](const auto& v) { return v.empty(); })) {
            return fail(Error(Exit::usage, code, option->get_name() + " is empty",
                              "give it a value, or leave the option out"));
        }
    }
    try {
        const Outcome outcome = action();
        if (format_ == Format::json) {
            std::cout << dump_python(outcome.document, outcome.json_style) << "\n";
        } else {
            std::cout << outcome.text;
        }
        const int code = checked_stdout(static_cast<int>(outcome.exit));
        // After the result, so a terminal shows the report and then what is wrong with it.
        for (const auto& f : outcome.findings) {
            print_finding(f);
        }
        return code;
    } catch (const Error& e) {
        return fail(e);
    } catch (const std::exception& e) {
        return fail(Error(Exit::internal, "INTERNAL",
                          std::string("internal error (a bug in kitty): ") + e.what(),
                          "please report it with the command that triggered it"));
    }
}

} // namespace kitty
