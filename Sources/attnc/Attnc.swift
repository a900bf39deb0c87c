import ArgumentParser
import Foundation
import GraphIR

/// The `attnc` command line.
struct Attnc: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "attnc",
        abstract: "A compiler for neural-network attention modules.",
        discussion: "MODEL is a .gir text file (see docs/IR.md) or an .onnx model (see docs/ONNX.md).",
        version: version,
        subcommands: [Check.self, Run.self, Compile.self, Dump.self, Bench.self, Version.self])
}

/// Entry point: runs the command and makes every failure print to stderr and exit with 1.
@main
enum Main {
    static func main() {
        do {
            var command = try Attnc.parseAsRoot()
            try command.run()
        } catch let error as Diagnostic {
            fail(error.description)
        } catch let error as DiagnosticList {
            fail(error.description)
        } catch {
            // Help and --version requests arrive as errors with a success exit code.
            if Attnc.exitCode(for: error) == .success {
                print(Attnc.fullMessage(for: error))
                exit(0)
            }
            let message = Attnc.fullMessage(for: error)
            fail(message.isEmpty ? String(describing: error) : message)
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
        exit(1)
    }
}
