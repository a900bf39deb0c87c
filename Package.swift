// swift-tools-version:6.0
import Foundation
import PackageDescription

// LLVM discovery (DEVELOPERS.md): $LLVM_CONFIG, then llvm-config-N newest first, then llvm-config.
// Only LLVM >= 17 is accepted; no version is hard-coded beyond that floor.
func run(_ args: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = args
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

let minimumLLVM = 17
let environment = ProcessInfo.processInfo.environment
let candidates = [environment["LLVM_CONFIG"]].compactMap { $0 }
    + (minimumLLVM...30).reversed().map { "llvm-config-\($0)" } + ["llvm-config"]
func major(_ version: String) -> Int { Int(version.prefix { $0.isNumber }) ?? 0 }
guard let llvmConfig = candidates.first(where: { major(run([$0, "--version"]) ?? "") >= minimumLLVM }),
      let llvmVersion = run([llvmConfig, "--version"]),
      let llvmInclude = run([llvmConfig, "--includedir"]),
      let llvmLibDir = run([llvmConfig, "--libdir"]),
      let llvmLibs = run([llvmConfig, "--libs", "--system-libs"])
else {
    fatalError("attnc needs LLVM >= \(minimumLLVM): apt-get install llvm-19-dev, or set LLVM_CONFIG=/path/to/llvm-config")
}

// The define makes clang's module cache version-specific: it does not hash -I, so switching LLVM
// would otherwise reuse a CLLVM module built from the old headers.
let versionTag = String(llvmVersion.map { $0.isNumber ? $0 : "_" })
let llvmSwift: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-I\(llvmInclude)", "-Xcc", "-DCLLVM_LLVM_VERSION=\(versionTag)"])
]
let llvmC: [CSetting] = [.unsafeFlags(["-I\(llvmInclude)"])]
let llvmLink: [LinkerSetting] = [
    .unsafeFlags(["-L\(llvmLibDir)", "-Xlinker", "-rpath", "-Xlinker", llvmLibDir]
        + llvmLibs.split(whereSeparator: \.isWhitespace).map(String.init))
]

let package = Package(
    name: "attnc",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "attnc", targets: ["attnc"]),
        .library(name: "Attnc", targets: ["GraphIR", "Reference", "Passes", "Codegen", "Runtime", "ONNXImport", "Engine"]),
        .executable(name: "attnc-onnx-node-tests", targets: ["onnx-node-tests"]),
        .executable(name: "attnc-fuzz", targets: ["attnc-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(name: "CLLVM", cSettings: llvmC, linkerSettings: llvmLink),
        .target(name: "GraphIR"),
        .target(name: "Reference", dependencies: ["GraphIR"]),
        .target(name: "Passes", dependencies: ["GraphIR", "Reference"]),
        .target(name: "Codegen", dependencies: ["GraphIR", "Passes", "CLLVM"], swiftSettings: llvmSwift),
        .target(name: "Runtime", dependencies: ["GraphIR"]),
        .target(name: "Engine", dependencies: ["GraphIR", "Reference", "Passes", "Codegen", "Runtime"], swiftSettings: llvmSwift),
        .target(
            name: "ONNXImport",
            dependencies: ["GraphIR", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Generated/README.md"]),
        .executableTarget(
            name: "attnc",
            dependencies: [
                "GraphIR", "Reference", "Passes", "Codegen", "Runtime", "ONNXImport", "Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: llvmSwift),
        .executableTarget(name: "onnx-node-tests", dependencies: ["GraphIR", "Reference", "ONNXImport", "Engine"],
                          swiftSettings: llvmSwift),
        .target(name: "RandomGraphs", dependencies: ["GraphIR"]),
        // libFuzzer targets (docs/RELIABILITY.md). libFuzzer supplies main, so the binary links
        // its runtime in every build; scripts/fuzz.sh and make test build everything with the
        // flags of scripts/sanitizer-flags.sh (AddressSanitizer, coverage instrumentation).
        .executableTarget(
            name: "attnc-fuzz",
            dependencies: ["GraphIR", "Reference", "Passes", "Codegen", "Runtime", "Engine", "ONNXImport", "RandomGraphs"],
            swiftSettings: llvmSwift + [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])]),
        .executableTarget(name: "attnc-driver-sample", dependencies: ["Engine", "GraphIR", "Runtime"], path: "samples/driver",
                          swiftSettings: llvmSwift),
        .testTarget(name: "GraphIRTests", dependencies: ["GraphIR"], exclude: ["Golden"]),
        .testTarget(name: "ReferenceTests", dependencies: ["GraphIR", "Reference"]),
        .testTarget(name: "RuntimeTests", dependencies: ["GraphIR", "Runtime"]),
        .testTarget(name: "CodegenTests", dependencies: ["Codegen", "GraphIR"], exclude: ["Golden"], swiftSettings: llvmSwift),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "Codegen", "Passes", "GraphIR", "Reference", "Runtime", "RandomGraphs"],
            exclude: ["Regressions", "FusedCases"],
            swiftSettings: llvmSwift),
        .testTarget(name: "CLITests", dependencies: ["attnc", "GraphIR", "Runtime"]),
        .testTarget(name: "AOTTests", dependencies: ["attnc", "GraphIR", "Runtime"], exclude: ["Driver"]),
        .testTarget(name: "PassesTests", dependencies: ["GraphIR", "Passes", "Reference", "Runtime"], exclude: ["Golden", "Spellings"]),
        .testTarget(name: "ONNXImportTests", dependencies: ["GraphIR", "Reference", "Runtime", "ONNXImport"]),
    ],
    swiftLanguageModes: [.v5]
)
