import CLLVM

/// The LLVM attnc was built against and the CPU it detects on this machine.
public struct HostTarget: Sendable, Equatable {
    /// Target triple, e.g. `x86_64-unknown-linux-gnu`.
    public let triple: String
    /// CPU name as LLVM spells it, e.g. `znver3`.
    public let cpu: String
    /// Comma-separated `+feature`/`-feature` list LLVM detects for the host.
    public let features: String

    /// Detects the host CPU through LLVM.
    public static func detect() -> HostTarget {
        LLVMSetup.ensureInitialized()
        return HostTarget(
            triple: takeLLVMMessage(LLVMGetDefaultTargetTriple()),
            cpu: takeLLVMMessage(LLVMGetHostCPUName()),
            features: takeLLVMMessage(LLVMGetHostCPUFeatures()))
    }

    /// The enabled features only, without the `+` signs, in LLVM's order.
    public var enabledFeatures: [String] {
        features.split(separator: ",").filter { $0.hasPrefix("+") }.map { String($0.dropFirst()) }
    }
}

/// One-time LLVM initialisation and version facts.
public enum LLVMSetup {
    private static let initialized: Bool = {
        precondition(cllvm_initialize_native() == 0, "LLVM native target initialisation failed")
        return true
    }()

    /// Initialises the native target once per process.
    public static func ensureInitialized() { _ = initialized }

    /// The LLVM version attnc was compiled against, e.g. `19.1.7`.
    public static var version: String { String(cString: cllvm_version_string()) }
}
