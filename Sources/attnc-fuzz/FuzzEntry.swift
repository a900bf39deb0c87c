import Foundation

/// The libFuzzer entry points of `attnc-fuzz`: one binary holds every target, and
/// `ATTNC_FUZZ_TARGET` picks the one this process runs (`scripts/fuzz.sh TARGET SECONDS` sets
/// it). A finding is a crash: a trap, a precondition failure, an AddressSanitizer report, or a
/// `fuzzFinding` when a target's invariant does not hold.
///
/// The binary's `main` is libFuzzer's, which calls the two functions below; in a build with
/// tests SwiftPM points `main` at `attnc_fuzz_main` instead, which hands over to libFuzzer's
/// driver the same way.
enum FuzzTarget: String, CaseIterable {
    case gir, onnx, npy, safetensors, differential

    /// Runs the target on one input. Inputs that are rejected with an error are fine; only a
    /// crash or a broken invariant is a finding.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .gir: fuzzGir(bytes)
        case .onnx: fuzzONNX(bytes)
        case .npy: fuzzNumpy(bytes)
        case .safetensors: fuzzSafetensors(bytes)
        case .differential: fuzzDifferential(bytes)
        }
    }
}

nonisolated(unsafe) private var selectedTarget: FuzzTarget?

/// Stops the process with a message libFuzzer reports as a crash, and saves the input.
func fuzzFinding(_ message: String) -> Never {
    fatalError("fuzz finding: \(message)")
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["ATTNC_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("attnc-fuzz: set ATTNC_FUZZ_TARGET to one of \(names) (got '\(name)')\n".utf8))
        exit(2)
    }
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget?.run(bytes)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                             _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("attnc_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    _ = fuzzerInitialize(&count, &arguments)
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzerTestOneInput(data, size) }
}
