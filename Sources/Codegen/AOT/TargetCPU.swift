import Foundation
import GraphIR

/// The CPUs `attnc compile --target-cpu` accepts, and how a CPU name and a feature list become a
/// `TargetDescription`.
///
/// LLVM derives a CPU's features from its name, but its C API cannot list them, and attnc needs
/// them to choose the vector width. So each supported CPU carries the vector features it implies
/// (`x86-64-v3` implies AVX2 and FMA): adding features a CPU already has leaves LLVM's subtarget
/// unchanged, and `TargetDescription.vectorWidth` reads them. `native` is the host, as detected.
public enum TargetCPU {
    /// A CPU attnc can compile for ahead of time.
    public struct Entry: Sendable {
        public let name: String
        /// The vector features the CPU implies (the ones `vectorWidth` looks at).
        public let features: String
        /// Whether the CPU exists only on x86-64 triples.
        public let x86Only: Bool
    }

    /// Every CPU `--target-cpu` accepts besides `native`, in the order help text lists them
    /// (docs/AOT.md describes each).
    public static let entries: [Entry] = [
        Entry(name: "generic", features: "", x86Only: false),
        Entry(name: "x86-64", features: "", x86Only: true),
        Entry(name: "x86-64-v2", features: "", x86Only: true),
        Entry(name: "x86-64-v3", features: "+avx,+avx2,+fma", x86Only: true),
        Entry(name: "x86-64-v4", features: "+avx,+avx2,+fma,+avx512f", x86Only: true),
    ]

    /// The names `--target-cpu` accepts.
    public static var names: [String] { ["native"] + entries.map(\.name) }

    /// The target for a CPU name and a feature list, either of which may be absent.
    ///
    /// - No CPU: the host CPU with its detected features (`native`).
    /// - A CPU without features: exactly that CPU.
    /// - Features: added to (or, with `-`, removed from) the CPU's features; later entries win.
    public static func resolve(cpu: String?, features: String?, host: TargetDescription = .host()) throws -> TargetDescription {
        let extra = try features.map(parseFeatures) ?? []
        let name = cpu ?? "native"
        if name == "native" {
            return TargetDescription(triple: host.triple, cpu: host.cpu, features: try withEVEX512(merge(host.features, extra)))
        }
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw Diagnostic(.error, "unknown target CPU '\(name)'; attnc compile supports \(names.joined(separator: ", ")) (see docs/AOT.md)")
        }
        if entry.x86Only && !host.triple.hasPrefix("x86_64") {
            throw Diagnostic(.error, "target CPU '\(name)' is an x86-64 CPU, but attnc compiles for \(host.triple); use generic or native")
        }
        return TargetDescription(triple: host.triple, cpu: name, features: try withEVEX512(merge(entry.features, extra)))
    }

    /// LLVM 18 split 512-bit registers off AVX-512 into `evex512`; a CPU without AVX-512 given
    /// `+avx512f` lacks it, and LLVM aborts on the first 512-bit vector. attnc uses 16 lanes
    /// whenever `avx512f` is on, so it turns `evex512` on with it.
    private static func withEVEX512(_ features: String) throws -> String {
        let items = features.split(separator: ",").map(String.init)
        guard items.contains("+avx512f"), Int(LLVMSetup.version.prefix { $0.isNumber }) ?? 0 >= 18 else { return features }
        if items.contains("-evex512") {
            throw Diagnostic(.error, "--target-features: -evex512 with +avx512f is not supported (attnc uses 512-bit vectors whenever avx512f is on)")
        }
        return items.contains("+evex512") ? features : features + ",+evex512"
    }

    /// `+a,-b` as a list, checking every entry has a sign and a name.
    private static func parseFeatures(_ text: String) throws -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
        for item in items where item.count < 2 || !(item.hasPrefix("+") || item.hasPrefix("-")) {
            throw Diagnostic(.error, "--target-features expects a comma-separated list such as +avx2,+fma; '\(item)' has no + or - sign")
        }
        return items
    }

    /// `base` with `extra` applied in order: each feature keeps its last sign.
    private static func merge(_ base: String, _ extra: [String]) -> String {
        var order: [String] = []
        var signs: [String: Character] = [:]
        for item in base.split(separator: ",").map(String.init) + extra where item.count > 1 {
            let name = String(item.dropFirst())
            if signs[name] == nil { order.append(name) }
            signs[name] = item.first!
        }
        return order.map { "\(signs[$0]!)\($0)" }.joined(separator: ",")
    }
}
