#include "CLLVM.h"
#include <llvm/Config/llvm-config.h>
#include <stddef.h>

const char *cllvm_version_string(void) { return LLVM_VERSION_STRING; }

int cllvm_initialize_native(void) {
  /* Loop strength reduction takes a fifth of code generation on attnc's kernels and gains nothing
     measurable on them: their loops already step addresses by constants (docs/PERFORMANCE.md). The
     option is process-wide, so it is set once, before any target machine exists. */
  static const char *const options[] = {"attnc", "-disable-lsr"};
  LLVMParseCommandLineOptions(2, options, NULL);
  return LLVMInitializeNativeTarget() | LLVMInitializeNativeAsmPrinter() |
         LLVMInitializeNativeAsmParser();
}

int cllvm_set_fast_math(LLVMValueRef inst, unsigned flags) {
#if LLVM_VERSION_MAJOR >= 18
  if (LLVMCanValueUseFastMathFlags(inst)) {
    LLVMSetFastMathFlags(inst, flags);
    return 1;
  }
#endif
  (void)inst;
  (void)flags;
  return 0;
}
