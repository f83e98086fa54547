// Runs a fuzz target's LLVMFuzzerTestOneInput over seed files, for the normal test run
// (under ASan/UBSan in `make test`). Arguments: files or directories (searched
// recursively); with --corpus NAME, also every file called NAME under
// $KITTY_SHARED_DIR/corpus when that folder is there.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "process.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

namespace {

void replay(const fs::path& file, int& count) {
    const std::string bytes = kitty::test::slurp(file);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++count;
}

void replay_tree(const fs::path& root, const std::string& name, int& count) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file() &&
            (name.empty() || e.path().filename() == name ||
             (name == "WP*.md" && e.path().filename().string().starts_with("WP") &&
              e.path().parent_path().filename() == "tasks"))) {
            replay(e.path(), count);
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    int count = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--corpus" && i + 1 < argc) {
            const fs::path shared = kitty::test::shared_dir();
            if (!shared.empty()) {
                replay_tree(shared / "corpus/missions", argv[++i], count);
            } else {
                ++i;
            }
        } else if (fs::is_directory(arg)) {
            replay_tree(arg, "", count);
        } else {
            replay(arg, count);
        }
    }
    std::cout << "replayed " << count << " inputs\n";
    return count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
