import Codegen
import Foundation
import GraphIR
import Testing

/// LLVM rejecting a module the emitters built is a compiler bug, reported as an `InternalError`
/// that names the module and function and points at the IR written to a file.
@Suite struct InternalErrorTests {
    @Test func aModuleLLVMRejectsBecomesAnInternalErrorWithItsIRInAFile() throws {
        let context = IRContext()
        let module = IRModule(name: "attnc_k3_softmax", context: context)
        let function = module.function("attnc_k3_softmax_task", context.function(returning: context.i32, [context.i32]))
        let builder = IRBuilder(module: module)
        builder.begin(function)
        builder.returnVoid()  // an i32 function returning void

        let error = try #require(throws: InternalError.self) { try module.verify() }
        #expect(error.stage == "the LLVM IR of attnc_k3_softmax")
        #expect(error.problem.hasPrefix("LLVM rejects the generated IR in attnc_k3_softmax_task: "), "\(error.problem)")
        let file = try #require(error.irFile)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(file.hasSuffix(".ll") && file.contains("attnc-internal-error-the-LLVM-IR-of-attnc_k3_softmax-"), "\(file)")
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("define i32 @attnc_k3_softmax_task(i32 %0)"))
        #expect(error.description.hasPrefix("internal error in the LLVM IR of attnc_k3_softmax: "))
        #expect(error.description.contains("the IR that triggered it is in \(file); please report this"))
    }
}
