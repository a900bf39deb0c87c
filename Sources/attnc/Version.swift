import ArgumentParser
import Codegen

/// `attnc version`: what attnc is built from and what it would compile for.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print attnc's version, the LLVM it was built against, and the host LLVM detects.")

    func run() throws {
        let host = HostTarget.detect()
        print("attnc \(Attnc.version)")
        print("LLVM \(LLVMSetup.version)")
        print("host triple: \(host.triple)")
        print("host CPU: \(host.cpu)")
        print("host features: \(host.enabledFeatures.joined(separator: ","))")
    }
}
