import Foundation

/// A compiler bug caught by a check instead of a crash: a pass left a graph the verifier
/// rejects, or LLVM rejected the IR a kernel emitter built. It names the stage (the pass, the
/// kernel) and the file holding the IR that triggered it, so the report can be acted on.
///
/// The file goes to `$ATTNC_INTERNAL_ERROR_DIR`, else the temporary directory.
public struct InternalError: Error, CustomStringConvertible, Sendable {
    /// The pass or kernel that failed: "pass fuse-attention", "the LLVM IR of kernel attnc_k3".
    public let stage: String
    /// What the check found.
    public let problem: String
    /// Where the IR was written, or nil when it could not be.
    public let irFile: String?

    /// Writes `ir` to a new file named after `stage` and makes the error that names it.
    public init(stage: String, problem: String, ir: String, fileExtension: String) {
        self.stage = stage
        self.problem = problem
        irFile = Self.save(ir, stage: stage, fileExtension: fileExtension)
    }

    public var description: String {
        let file = irFile.map { "the IR that triggered it is in \($0)" } ?? "its IR could not be written to a file"
        return "internal error in \(stage): \(problem)\n\(file); please report this with that file and the model"
    }

    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    private static func save(_ ir: String, stage: String, fileExtension: String) -> String? {
        let directory = ProcessInfo.processInfo.environment["ATTNC_INTERNAL_ERROR_DIR"] ?? NSTemporaryDirectory()
        let slug = String(stage.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(60))
        lock.lock()
        counter += 1
        let n = counter
        lock.unlock()
        let path = (directory as NSString).appendingPathComponent("attnc-internal-error-\(slug)-\(getpid())-\(n).\(fileExtension)")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try ir.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        } catch {
            return nil
        }
    }
}
