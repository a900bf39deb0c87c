import CLLVM

/// An error reported by LLVM, with the operation that failed.
public struct LLVMError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Takes ownership of a message string returned by LLVM and frees it.
func takeLLVMMessage(_ message: UnsafeMutablePointer<CChar>?) -> String {
    guard let message else { return "" }
    defer { LLVMDisposeMessage(message) }
    return String(cString: message)
}

/// Turns an `LLVMErrorRef` (nil on success) into a thrown error, consuming it.
func checkLLVM(_ error: LLVMErrorRef?, _ operation: @autoclosure () -> String) throws {
    guard let error else { return }
    let message = LLVMGetErrorMessage(error)
    defer { LLVMDisposeErrorMessage(message) }
    throw LLVMError("\(operation()): \(message.map { String(cString: $0) } ?? "unknown error")")
}
