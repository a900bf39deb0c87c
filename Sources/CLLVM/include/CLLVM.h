#ifndef CLLVM_H
#define CLLVM_H
// Umbrella header exposing the LLVM C API to Swift, plus a few out-of-line shims for what the C
// API offers only as static-inline functions or differently across LLVM releases.
#include <llvm-c/Core.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Support.h>
#include <llvm-c/Error.h>

/// The LLVM version the package was compiled against, e.g. "19.1.7".
const char *cllvm_version_string(void);
/// Initialises the native target, asm printer and asm parser; returns 0 on success.
int cllvm_initialize_native(void);
/// Sets fast-math flags where the C API has them (LLVM >= 18); returns 0 where it does not.
int cllvm_set_fast_math(LLVMValueRef inst, unsigned flags);
#endif
