#include "CLLVM.h"
#include <llvm/Config/llvm-config.h>

const char *cllvm_version_string(void) { return LLVM_VERSION_STRING; }

int cllvm_initialize_native(void) {
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
