// The tools an agent calls in its loop, many times a minute, as functions. Each one's binary
// (kitty-next, kitty-status, kitty-workspace) only calls its function, and spec-kitty calls
// them in its own process, as git runs its builtins, instead of starting the binary: a loop
// call is one process start, not two. Stdio, arguments and exit codes are the binary's.
#pragma once

namespace kitty::builtin {

int kitty_next(int argc, char** argv);
int kitty_status(int argc, char** argv);
int kitty_workspace(int argc, char** argv);

} // namespace kitty::builtin
