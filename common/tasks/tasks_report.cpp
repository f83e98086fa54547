#include "kitty/tasks_report.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "kitty/error.hpp"
#include "kitty/mission.hpp"
#include "kitty/mission_meta.hpp"
#include "kitty/tasks_md.hpp"
#include "kitty/text.hpp"
#include "kitty/wp_frontmatter.hpp"

namespace kitty {

namespace {

namespace fs = std::filesystem;

struct Input {
    std::string bytes;
    std::string source;             // as findings name it
    std::optional<Mission> mission; // set when the input is a mission
};

Input read_input(const ParseTasksRequest& request) {
    if (!names_mission(request.input)) {
        return request.input == "-" ? Input{request.stdin_text, "<stdin>", {}}
                                    : Input{read_file_bytes(request.input), request.input, {}};
    }
    std::error_code ec;
    Mission mission = Mission::open(request.input, request.start_dir);
    const fs::path tasks = mission.tasks_md();
    if (!fs::is_regular_file(tasks, ec)) {
        throw Error(Exit::input, "NOT_FOUND", "no tasks.md in " + mission.dir().string(),
                    "run the tasks step first, or pass the tasks.md path")
            .at(tasks);
    }
    return {read_file_bytes(tasks), tasks.string(), std::move(mission)};
}

Json subtask_json(const Subtask& s) {
    return {{"id", s.id},
            {"done", s.done},
            {"parallel", s.parallel},
            {"text", s.text},
            {"line", s.line}};
}

Json section_json(const WpSection& wp) {
    Json deps = Json::array();
    for (const DependencySource& d : wp.dependencies) {
        deps.push_back({{"id", d.id},
                        {"pattern", std::string(pattern_name(d.pattern))},
                        {"line", d.at.line},
                        {"column", d.at.column}});
    }
    Json subtasks = Json::array();
    for (const Subtask& s : wp.subtasks) {
        subtasks.push_back(subtask_json(s));
    }
    return {{"id", wp.id},
            {"title", wp.title},
            {"lines", {{"first", wp.first_line}, {"last", wp.last_line}}},
            {"headers", wp.header_count},
            {"dependencies", deps},
            {"subtasks", subtasks},
            {"requirement_refs", wp.requirement_refs}};
}

struct WpFile {
    fs::path path;
    std::string relative;
    std::string wp_id;
    std::optional<WpFrontmatter> frontmatter;
    std::optional<Error> error;
};

std::vector<WpFile> read_wp_files(const fs::path& mission_dir) {
    std::vector<WpFile> files;
    for (const fs::path& path : list_wp_files(mission_dir / "tasks")) {
        const auto id = wp_id_from_filename(path.filename().string());
        if (!id) {
            continue;
        }
        WpFile f{path, "tasks/" + path.filename().string(), *id, {}, {}};
        try {
            f.frontmatter = read_wp_file(path);
        } catch (const Error& e) {
            f.error = e;
        }
        files.push_back(std::move(f));
    }
    return files;
}

// Findings that need the WP files: unreadable files, sections and files without each
// other, and the disagree-loud rule of finalize-tasks.
void check_wp_files(const TasksAnalysis& analysis, const std::vector<WpFile>& files,
                    const std::string& tasks_path, std::vector<Finding>& findings) {
    std::map<std::string, const WpFile*> by_id;
    for (const WpFile& f : files) {
        by_id.emplace(f.wp_id, &f);
        if (f.error) {
            findings.push_back({"warning", "WP_FILE_UNREADABLE",
                                std::string(f.error->what()) +
                                    "; spec-kitty 3.1.1 skips this file (no manifest, no "
                                    "frontmatter dependencies)",
                                f.path.string(), f.error->line()});
        }
    }
    std::set<std::string> sections;
    for (const WpSection& wp : analysis.sections) {
        sections.insert(wp.id);
        const auto it = by_id.find(wp.id);
        if (it == by_id.end()) {
            findings.push_back({"warning", "MISSING_WP_FILE",
                                wp.id + " has a section in tasks.md but no tasks/" + wp.id +
                                    "-*.md file; finalize-tasks cannot compute lanes without it",
                                tasks_path, wp.first_line});
            continue;
        }
        if (!it->second->frontmatter) {
            continue;
        }
        std::vector<std::string> declared = it->second->frontmatter->dependencies();
        std::vector<std::string> parsed;
        for (const DependencySource& d : wp.dependencies) {
            parsed.push_back(d.id);
        }
        std::sort(declared.begin(), declared.end());
        std::sort(parsed.begin(), parsed.end());
        const std::set<std::string> a(declared.begin(), declared.end());
        const std::set<std::string> b(parsed.begin(), parsed.end());
        if (!declared.empty() && !parsed.empty() && a != b) {
            findings.push_back(
                {"error", "DEPENDENCY_DISAGREEMENT",
                 wp.id + ": frontmatter has " + python_list_repr(declared) + ", tasks.md parsed " +
                     python_list_repr(parsed) +
                     ". Resolve the disagreement in tasks.md or WP frontmatter before finalizing.",
                 tasks_path, wp.first_line});
        }
    }
    for (const WpFile& f : files) {
        if (!sections.count(f.wp_id)) {
            findings.push_back({"warning", "WP_FILE_WITHOUT_SECTION",
                                "tasks.md has no section for " + f.wp_id +
                                    ", so 3.1.1 parses no dependencies for it and keeps its "
                                    "frontmatter ones unchecked",
                                f.path.string(), 1});
        }
    }
}

Json wp_file_json(const WpFile& f) {
    Json j = {{"file", f.relative}, {"wp_id", f.wp_id}, {"readable", f.frontmatter.has_value()}};
    if (f.error) {
        j["error"] = {
            {"code", f.error->code()}, {"message", f.error->what()}, {"line", f.error->line()}};
    }
    j["frontmatter"] = f.frontmatter ? f.frontmatter->to_json() : Json(nullptr);
    j["body"] = f.frontmatter ? Json(f.frontmatter->body) : Json(nullptr);
    return j;
}

std::string render_text(const TasksAnalysis& analysis, const std::string& source,
                        std::size_t errors, std::size_t warnings) {
    std::string out;
    std::size_t width = 0;
    for (const WpSection& wp : analysis.sections) {
        width = std::max(width, wp.title.size());
    }
    width = std::min<std::size_t>(width, 40);
    std::size_t edges = 0;
    for (const WpSection& wp : analysis.sections) {
        std::string title = wp.title.size() > width ? wp.title.substr(0, width) : wp.title;
        title.resize(width, ' ');
        out += wp.id + "  " + title + "  ";
        if (wp.dependencies.empty()) {
            out += "no dependencies";
        }
        for (std::size_t i = 0; i < wp.dependencies.size(); ++i) {
            const DependencySource& d = wp.dependencies[i];
            out += (i ? ", " : "← ") + d.id + " (line " + std::to_string(d.at.line) + ":" +
                   std::to_string(d.at.column) + " " + std::string(pattern_name(d.pattern)) + ")";
            ++edges;
        }
        out += "\n";
    }
    if (analysis.sections.empty()) {
        out += source + ": no WP header that spec-kitty 3.1.1 recognises\n";
    }
    out += std::to_string(analysis.sections.size()) + " work packages, " + std::to_string(edges) +
           " dependencies, " + std::to_string(errors) + " errors, " + std::to_string(warnings) +
           " warnings\n";
    return out;
}

} // namespace

Outcome parse_tasks(const ParseTasksRequest& request) {
    Input input = read_input(request);
    require_utf8(input.bytes, input.source);
    const std::string text = normalize_newlines(input.bytes);

    if (request.deps_only) {
        const DependencyMap map = parse_dependencies(text);
        return Outcome::success(dependency_map_json(map),
                                dump_python(dependency_map_json(map)) + "\n");
    }

    TasksAnalysis analysis = analyse_tasks_md(text, input.source);
    std::vector<WpFile> files;
    if (input.mission) {
        files = read_wp_files(input.mission->dir());
        check_wp_files(analysis, files, input.source, analysis.findings);
    }
    std::size_t errors = 0, warnings = 0;
    for (Finding& f : analysis.findings) {
        if (request.strict) {
            f.severity = "error";
        }
        (f.severity == "error" ? errors : warnings)++;
    }

    Json doc = Json::object();
    doc["source"] = input.source;
    if (input.mission) {
        doc["mission_dir"] = input.mission->dir().string();
        const auto& id = input.mission->identity().mission_id;
        doc["mission_id"] = id ? Json(*id) : Json(nullptr);
    }
    const DependencyMap map = analysis.dependency_map();
    doc["dependencies"] = dependency_map_json(map);
    Json wps = Json::array();
    std::size_t edges = 0, subtasks = 0;
    for (const WpSection& wp : analysis.sections) {
        Json j = section_json(wp);
        if (input.mission) {
            const auto it = std::find_if(files.begin(), files.end(),
                                         [&](const WpFile& f) { return f.wp_id == wp.id; });
            j["file"] = it == files.end() ? Json(nullptr) : Json(it->relative);
        }
        edges += wp.dependencies.size();
        subtasks += wp.subtasks.size();
        wps.push_back(std::move(j));
    }
    doc["work_packages"] = wps;
    Json refs = Json::object();
    for (const auto& [id, list] : analysis.requirement_refs) {
        refs[id] = list;
    }
    doc["requirement_refs"] = refs;
    if (input.mission) {
        Json jf = Json::array();
        for (const WpFile& f : files) {
            jf.push_back(wp_file_json(f));
        }
        doc["wp_files"] = jf;
    }
    Json findings = Json::array();
    for (const Finding& f : analysis.findings) {
        findings.push_back(f.to_json());
    }
    doc["findings"] = findings;
    doc["summary"] = {{"work_packages", analysis.sections.size()},
                      {"dependencies", edges},
                      {"subtasks", subtasks},
                      {"errors", errors},
                      {"warnings", warnings}};
    doc["ok"] = errors == 0;

    Outcome out;
    out.text = render_text(analysis, input.source, errors, warnings);
    out.document = std::move(doc);
    out.exit = errors == 0 ? Exit::ok : Exit::check_failed;
    out.findings = std::move(analysis.findings);
    return out;
}

} // namespace kitty
