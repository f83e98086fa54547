// kitty-status: the binary of a tool spec-kitty also runs in its own process (builtins.hpp).
#include "../builtins.hpp"

int main(int argc, char** argv) {
    return kitty::builtin::kitty_status(argc, argv);
}
