// main() for suites that read ../shared/corpus: exit 77 (meson's "skipped") when the
// corpus is not there, as in a user's clone.
#include <iostream>

#include <gtest/gtest.h>

#include "process.hpp"

int main(int argc, char** argv) {
    if (kitty::test::shared_dir().empty()) {
        std::cerr << "SKIP: no corpus at KITTY_SHARED_DIR; configure with -Dshared_dir=DIR "
                     "pointing at the folder that holds corpus/\n";
        return 77;
    }
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
