import Foundation
import GraphIR
import ONNXImport

/// `attnc-onnx-node-tests DIR [--skip FILE] [--filter TEXT] [--jit] [--verbose]`
///
/// Runs ONNX's node tests (written by `generate.py`) through the ONNX importer and the reference
/// interpreter, or with `--jit` through the pass pipeline and JIT-compiled code (one thread), the
/// way `attnc run` runs a model. The skip file is written for the interpreter: through the JIT,
/// cases of ops the code generator lacks fail too. A case whose model uses only ops attnc imports must pass, unless the skip file
/// lists it with a reason; a listed case that passes is an error too, so the list stays honest.
/// Cases that use other ops are counted as not imported. Prints pass/fail counts per op and a
/// total, and exits 1 on any unexpected result.
struct Options {
    var directory = ""
    var skipFile: String?
    var filter: String?
    var verbose = false
    var jit = false

    init(_ arguments: [String]) throws {
        var rest = arguments.makeIterator()
        while let argument = rest.next() {
            switch argument {
            case "--skip": skipFile = rest.next()
            case "--filter": filter = rest.next()
            case "--verbose", "-v": verbose = true
            case "--jit": jit = true
            case "--list-ops":
                print(supportedONNXOps.joined(separator: ","))
                exit(0)
            case "--help", "-h":
                print("usage: attnc-onnx-node-tests DIR [--skip FILE] [--filter TEXT] [--jit] [--verbose] | --list-ops")
                exit(0)
            default:
                guard directory.isEmpty, !argument.hasPrefix("-") else { throw RunnerError("unexpected argument '\(argument)'") }
                directory = argument
            }
        }
        guard !directory.isEmpty else { throw RunnerError("usage: attnc-onnx-node-tests DIR [--skip FILE] [--filter TEXT] [--jit] [--verbose]") }
    }
}

struct Tally {
    var passed = 0, failed = 0, skipped = 0
    var line: String { "\(passed) passed, \(failed) failed, \(skipped) skipped" }
}

func main() throws -> Int32 {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    let skips = try options.skipFile.map { try SkipList(path: $0) } ?? SkipList()
    let root = URL(fileURLWithPath: options.directory)
    let folders = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
        .filter { $0.lastPathComponent.hasPrefix("test_") && FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.onnx").path) }
        .filter { options.filter.map($0.lastPathComponent.contains) ?? true }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
    guard !folders.isEmpty else { throw RunnerError("no test_*/model.onnx cases in \(root.path)") }

    var perFamily: [String: Tally] = [:]
    var total = Tally()
    var notImported: [String: [String]] = [:]
    var unexpected: [String] = []
    var usedSkips = Set<Int>()
    for folder in folders {
        let name = folder.lastPathComponent
        let testCase: NodeTestCase
        do {
            testCase = try NodeTestCase(directory: folder)
        } catch {
            total.failed += 1
            unexpected.append("FAIL \(name): \(error)")
            continue
        }
        let missing = testCase.summary.unsupportedOps
        let skip = skips.entry(for: name)
        if let skip { usedSkips.insert(skip.line) }
        guard missing.isEmpty else {
            // Not a case of an op attnc imports: counted, not run.
            notImported["ops " + missing.joined(separator: "+"), default: []].append(name)
            continue
        }
        let dtypes = testCase.summary.unsupportedDataTypes
        guard dtypes.isEmpty else {
            // Nor is a case of a data type attnc does not import.
            notImported["dtype " + dtypes.joined(separator: "+"), default: []].append(name)
            continue
        }
        let failure = testCase.run(tolerance: Tolerance(), jit: options.jit)
        var tally = perFamily[testCase.family, default: Tally()]
        switch (failure, skip) {
        case (nil, nil):
            tally.passed += 1
            total.passed += 1
            if options.verbose { print("PASS \(name)") }
        case (nil, let skip?):
            tally.failed += 1
            total.failed += 1
            unexpected.append("UNEXPECTED PASS \(name): listed in the skip file (line \(skip.line): \(skip.reason)) but passes; remove it")
        case (let failure?, nil):
            tally.failed += 1
            total.failed += 1
            unexpected.append("FAIL \(name): \(failure)")
        case (let failure?, let skip?):
            tally.skipped += 1
            total.skipped += 1
            if options.verbose { print("SKIP \(name) (\(skip.reason)): \(failure)") }
        }
        perFamily[testCase.family] = tally
    }

    print("ONNX node tests in \(root.path), by op:")
    for (family, tally) in perFamily.sorted(by: { $0.key < $1.key }) {
        print("  \(family.padding(toLength: max(34, family.count), withPad: " ", startingAt: 0)) \(tally.line)")
    }
    if !notImported.isEmpty {
        let count = notImported.values.map(\.count).reduce(0, +)
        print("not imported (\(count) cases use ops or data types attnc does not import):")
        for (ops, names) in notImported.sorted(by: { $0.value.count > $1.value.count }) {
            print("  \(ops): \(names.count) case\(names.count == 1 ? "" : "s")\(options.verbose ? " (\(names.joined(separator: ", ")))" : "")")
        }
    }
    if options.filter == nil {
        for entry in skips.entries where !usedSkips.contains(entry.line) {
            print("warning: skip file line \(entry.line) ('\(entry.pattern)') matches no case")
        }
    }
    for line in unexpected { print(line) }
    print("total: \(total.line)")
    return unexpected.isEmpty ? 0 : 1
}

do {
    exit(try main())
} catch {
    FileHandle.standardError.write(Data("attnc-onnx-node-tests: \(error)\n".utf8))
    exit(2)
}
