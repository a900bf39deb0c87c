import Foundation
import GraphIR
import Runtime
import Testing

/// Reading the real files of the shared conformance cases (written by numpy and safetensors).
@Suite struct ConformanceFileTests {
    static let cases = TestPaths.conformanceCases

    static var npyFiles: [String] {
        cases.flatMap { directory in
            ["inputs", "expected"].flatMap { folder -> [String] in
                let url = directory.appendingPathComponent(folder)
                let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
                return names.filter { $0.hasSuffix(".npy") }.sorted().map { url.appendingPathComponent($0).path }
            }
        }
    }

    /// `case.json` of a case, as loosely typed JSON.
    static func description(of directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("case.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func theConformanceDataIsThere() {
        #expect(Self.cases.count >= 16, "no conformance cases under \(TestPaths.conformance.path)")
        #expect(Self.npyFiles.count >= 2 * Self.cases.count)
    }

    @Test(arguments: npyFiles)
    func readsAndRewritesEveryNpyFileByteForByte(path: String) throws {
        let tensor = try NumpyFile.read(path: path)
        #expect(tensor.elementType == .f32)
        #expect(tensor.floats.allSatisfy { $0.isFinite })
        // The files were written by `np.save`, and attnc writes what `np.save` writes.
        #expect(try NumpyFile.encode(tensor) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test(arguments: cases)
    func inputsHaveTheShapesTheCaseLists(directory: URL) throws {
        let inputs = try #require(try Self.description(of: directory)["inputs"] as? [String: [String: Any]])
        for (name, input) in inputs {
            let tensor = try NumpyFile.read(path: directory.appendingPathComponent("inputs/\(name).npy").path)
            #expect(tensor.shape == input["shape"] as? [Int], "\(directory.lastPathComponent) input \(name)")
        }
    }

    @Test(arguments: cases)
    func readsEveryWeightsFileWithTheNamesAndShapesTheCaseLists(directory: URL) throws {
        let path = directory.appendingPathComponent("weights.safetensors").path
        let listed = try #require(try Self.description(of: directory)["weights"] as? [String: [Int]])
        let tensors = try SafetensorsFile.read(path: path)
        #expect(tensors.mapValues(\.shape) == listed)
        for (name, tensor) in tensors {
            // BatchNorm's step counter is the one integer buffer in a PyTorch state_dict.
            let expected: ElementType = name.hasSuffix("num_batches_tracked") ? .i64 : .f32
            #expect(tensor.elementType == expected, "\(name)")
        }
    }

    @Test func readsTheBatchNormCountersOfTripletAttention() throws {
        let path = TestPaths.conformance.appendingPathComponent("triplet_attention/weights.safetensors").path
        let entries = try SafetensorsFile.readEntries(path: path)
        let counters = entries.filter { $0.name.hasSuffix("num_batches_tracked") }
        #expect(counters.map(\.name) == ["cw.bn.num_batches_tracked", "hc.bn.num_batches_tracked", "hw.bn.num_batches_tracked"])
        #expect(counters.allSatisfy { $0.tensor.shape == [] && $0.tensor.elementType == .i64 })
    }
}
