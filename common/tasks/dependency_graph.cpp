#include "kitty/dependency_graph.hpp"

#include <algorithm>
#include <map>

#include "kitty/text.hpp"
#include "kitty/wps_manifest.hpp"

namespace kitty {

namespace {

enum class Colour { white, gray, black };

class CycleSearch {
public:
    explicit CycleSearch(const DependencyMap& graph) : graph_(graph) {
        for (const auto& [id, deps] : graph) {
            index_.emplace(id, &deps);
        }
    }

    std::vector<std::vector<std::string>> run() {
        for (const auto& entry : graph_) {
            if (colour(entry.first) == Colour::white) {
                visit(entry.first);
            }
        }
        return std::move(cycles_);
    }

private:
    Colour colour(const std::string& id) const {
        const auto it = colours_.find(id);
        return it == colours_.end() ? Colour::white : it->second;
    }

    // Iterative, so a pathological tasks.md with a very long chain cannot exhaust the stack.
    void visit(const std::string& root) {
        struct Frame {
            std::string id;
            const std::vector<std::string>* deps;
            std::size_t next = 0;
        };
        std::vector<Frame> stack;
        const auto enter = [&](const std::string& id) {
            colours_[id] = Colour::gray;
            path_.push_back(id);
            const auto it = index_.find(id);
            stack.push_back({id, it == index_.end() ? nullptr : it->second});
        };
        enter(root);
        while (!stack.empty()) {
            Frame& top = stack.back();
            if (top.deps == nullptr || top.next == top.deps->size()) {
                colours_[top.id] = Colour::black;
                path_.pop_back();
                stack.pop_back();
                continue;
            }
            const std::string next = (*top.deps)[top.next++];
            const Colour c = colour(next);
            if (c == Colour::gray) {
                const auto from = std::find(path_.begin(), path_.end(), next);
                std::vector<std::string> cycle(from, path_.end());
                cycle.push_back(next);
                cycles_.push_back(std::move(cycle));
            } else if (c == Colour::white) {
                enter(next);
            }
        }
    }

    const DependencyMap& graph_;
    std::map<std::string, const std::vector<std::string>*> index_;
    std::map<std::string, Colour> colours_;
    std::vector<std::string> path_;
    std::vector<std::vector<std::string>> cycles_;
};

} // namespace

std::vector<std::vector<std::string>> detect_cycles(const DependencyMap& graph) {
    return CycleSearch(graph).run();
}

MissionGraph mission_dependency_graph(const Mission& mission) {
    if (const auto wps = load_wps_manifest(mission.dir())) {
        return {wps_dependency_map(*wps), true, std::nullopt};
    }
    std::error_code ec;
    if (std::filesystem::is_regular_file(mission.tasks_md(), ec)) {
        std::string text = read_text_file(mission.tasks_md(), Bom::keep);
        DependencyMap graph = parse_dependencies(text);
        return {std::move(graph), false, std::move(text)};
    }
    return {};
}

} // namespace kitty
