import Foundation
import GraphIR
@testable import ONNXImport
import Testing

/// Broken and unsupported models give a diagnostic that names the file and the problem, and
/// never crash the importer.
@Suite struct MalformedModelTests {
    static let sdpa = TestPaths.conformance.appendingPathComponent("sdpa/model.onnx")

    func importError(_ bytes: Data, path: String = "model.onnx") -> Diagnostic? {
        do {
            _ = try importONNX(bytes: bytes, path: path)
            return nil
        } catch let diagnostic as Diagnostic {
            return diagnostic
        } catch {
            Issue.record("not a Diagnostic: \(error)")
            return nil
        }
    }

    @Test func anEmptyFileIsNotAModel() throws {
        let error = try #require(importError(Data()))
        #expect(error.description == "model.onnx: error: is empty, not an ONNX model")
    }

    @Test func aMissingFileIsNamed() throws {
        let error = try #require(throws: Diagnostic.self) { try importONNX(path: "/nonexistent/model.onnx") }
        #expect(error.description == "/nonexistent/model.onnx: error: no such file")
    }

    @Test func aTruncatedModelIsMalformed() throws {
        let bytes = try Data(contentsOf: Self.sdpa)
        for length in [1, 7, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            let error = try #require(importError(bytes.prefix(length)), "truncated to \(length) bytes")
            #expect(error.file == "model.onnx")
            #expect(error.message.contains("malformed or truncated") || error.message.contains("has no graph"),
                    "truncated to \(length) bytes: \(error.message)")
        }
    }

    @Test func textIsNotAModel() throws {
        let error = try #require(importError(Data("graph g(%x: f32[2]) {\n  return %x\n}\n".utf8)))
        #expect(error.message.contains("is not a valid ONNX model"))
    }

    @Test func anInvalidWireTypeIsMalformed() throws {
        var bytes = try Data(contentsOf: Self.sdpa)
        bytes[0] = 0xFF
        let error = try #require(importError(bytes))
        #expect(error.message.contains("malformed or truncated"))
    }

    /// Flipped bytes may still decode; the importer must then either import a graph that
    /// verifies or report an error, and never trap.
    @Test func flippedBytesNeverCrash() throws {
        let original = try Data(contentsOf: Self.sdpa)
        var generator = SplitMix(seed: 7)
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<3 {
                let i = Int(generator.next() % UInt64(bytes.count))
                bytes[i] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            }
            do {
                let model = try importONNX(bytes: bytes, path: "flipped.onnx")
                #expect(verify(model.graph).isEmpty)
            } catch let diagnostic as Diagnostic {
                #expect(diagnostic.file == "flipped.onnx")
            }
        }
    }

    @Test func anUnknownOpNamesTheNodeAndListsWhatIsSupported() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Frobnicate", ["x"], ["y"], name: "blender")],
                                           inputs: [("x", [2])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message.hasPrefix("node 0 'blender' (Frobnicate, domain ai.onnx, opset 17): unsupported op 'Frobnicate'; attnc imports Abs, Add, "))
        #expect(error.message.contains("MatMul"))
    }

    /// Found by the onnx fuzz target: a graph name holding a line break and a quote printed as
    /// text that did not parse. The importer replaces both, as it does in value names.
    @Test func namesTheTextFormCannotHoldAreReplaced() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x\n\"1"], ["y"])],
                                           inputs: [("x\n\"1", [2])], outputs: ["y"], graphName: "a\nb\"c")
        let model = try importONNX(bytes: bytes, path: "names.onnx")
        let text = printGraph(model.graph)
        #expect(text.hasPrefix("graph a_b_c(%x__1: f32[2])"), "\(text)")
        #expect(printGraph(try parseGraph(text)) == text)
    }

    /// Found by the onnx fuzz target: a name that starts with a combining mark (U+06DA) fused with
    /// its opening quote into one character, and the printed text did not parse. So would a name
    /// that ends with a prepended mark (U+0600) with its closing quote.
    @Test func namesThatWouldFuseWithTheirQuotesAreWrapped() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["\u{0600}y\u{0600}"])],
                                           inputs: [("x", [2])], outputs: ["\u{0600}y\u{0600}"], graphName: "\u{06DA}g")
        let text = printGraph(try importONNX(bytes: bytes, path: "names.onnx").graph)
        #expect(text.hasPrefix("graph \"_\u{06DA}g_\"(%x: f32[2])"), "\(text)")
        #expect(printGraph(try parseGraph(text)) == text)
    }

    /// Found by the onnx fuzz target: a Reshape target whose element count overflows trapped in
    /// the typing rule instead of being an error.
    @Test func aReshapeTargetWhoseElementCountOverflowsIsNamed() throws {
        let target = TensorData(.i64, shape: [3], storage: .integers([2, 1 << 61, 16]))
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Reshape", ["x", "s"], ["y"])],
                                           inputs: [("x", [2, 4])], outputs: ["y"], initializers: [ModelBuilder.tensor("s", target)])
        let error = try #require(importError(bytes))
        #expect(error.message.hasSuffix("reshape target [2,2305843009213693952,16] has too many elements: the element count overflows"), "\(error.message)")
    }

    /// Found by the onnx fuzz target: a node that computes a known tensor but names no output
    /// (CastLike of an initializer, or any op the importer folds) indexed past its output list.
    /// ONNX lets a node leave outputs out; what it computes is then simply not bound.
    @Test func knownResultsOfANodeWithoutOutputsAreDropped() throws {
        let two = TensorData(shape: [2], floats: [1, 2])
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("CastLike", ["c", "x"], []),
                                                   ModelBuilder.node("Add", ["c", "c"], []),
                                                   ModelBuilder.node("Relu", ["x"], ["y"])],
                                           inputs: [("x", [2])], outputs: ["y"], initializers: [ModelBuilder.tensor("c", two)])
        let model = try importONNX(bytes: bytes, path: "model.onnx")
        #expect(printGraph(model.graph).contains("%y = relu(%x) : f32[2]"), "\(printGraph(model.graph))")
    }

    /// Found by the onnx fuzz target: Attention read the past length from dim 2 of a past_key of
    /// lower rank.
    @Test func attentionWithAPastKeyOfTheWrongRankIsNamed() throws {
        let bytes = try ModelBuilder.model(opset: 23, nodes: [ModelBuilder.node("Attention", ["q", "k", "v", "", "pk", "pv"], ["y"])],
                                           inputs: [("q", [1, 2, 3, 4]), ("k", [1, 2, 5, 4]), ("v", [1, 2, 5, 4]), ("pk", [2, 8]), ("pv", [1, 2, 3, 4])],
                                           outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message.hasSuffix("needs past_key and past_value of rank 4 ([batch, kv heads, past length, head size]), got f32[2,8] and f32[1,2,3,4]"), "\(error.message)")
    }

    /// Found by the onnx fuzz target: Gather with only its data input indexed past the inputs.
    @Test func gatherWithoutIndicesIsNamed() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Gather", ["x"], ["y"])], inputs: [("x", [10])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message.hasSuffix("needs input 1, which is missing"), "\(error.message)")
    }

    /// Found by the onnx fuzz target (a timeout): AveragePool's explicit padding, and the pooled
    /// count it divides by, were made as constants at import, 2 GiB for a pad of 2²⁴ columns.
    /// Large fills are now broadcasts in the graph, refused with their size if run.
    @Test func hugePaddingIsABroadcastNotAConstant() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("AveragePool", ["x"], ["y"], [ModelBuilder.ints("kernel_shape", [3, 3]), ModelBuilder.ints("pads", [0, 2, 2, 1 << 24])])],
                                           inputs: [("x", [1, 1, 28, 28])], outputs: ["y"])
        let text = printGraph(try importONNX(bytes: bytes, path: "model.onnx").graph)
        #expect(text.contains("broadcast(") && text.contains("16777216"), "\(text)")
    }

    /// Found by the onnx fuzz target: Range was evaluated at import for up to 2^32 elements, and
    /// a file of a few hundred bytes asked for 6 GiB. Range has no graph form, so a large one is
    /// refused with its size.
    @Test func aHugeRangeIsRefusedWithItsSize() throws {
        let scalar = { (name: String, value: Int64) in ModelBuilder.tensor(name, TensorData(.i64, shape: [], storage: .integers([value]))) }
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Range", ["s", "l", "d"], ["r"]),
                                                   ModelBuilder.node("Relu", ["x"], ["y"])],
                                           inputs: [("x", [2])], outputs: ["y"],
                                           initializers: [scalar("s", 0), scalar("l", 805_306_368), scalar("d", 1)])
        let error = try #require(importError(bytes))
        #expect(error.description == "model.onnx: error: node 0 (Range, domain ai.onnx, opset 17): the range from 0.0 to 805306368.0 by 1.0 holds 805306368.0 elements; attnc evaluates Range at import time, up to 1048576 elements", "\(error.description)")
    }

    /// The folder bounds what it computes, not only what it reads: an Expand of a known scalar to
    /// 2^22 elements stays a broadcast in the graph.
    @Test func aHugeResultOfKnownOperandsStaysInTheGraph() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Expand", ["c", "s"], ["e"]),
                                                   ModelBuilder.node("Add", ["x", "e"], ["y"])],
                                           inputs: [("x", [4, 1 << 20])], outputs: ["y"],
                                           initializers: [ModelBuilder.tensor("c", TensorData(shape: [1], floats: [2])),
                                                          ModelBuilder.tensor("s", TensorData(.i64, shape: [2], storage: .integers([4, 1 << 20])))])
        let text = printGraph(try importONNX(bytes: bytes, path: "model.onnx").graph)
        #expect(text.contains("broadcast(") && text.contains("[4,1048576]"), "\(text)")
    }

    /// Found by the onnx fuzz target (a timeout): Split's num_outputs of 2^40 built a list of
    /// 2^40 sizes. ONNX requires num_outputs to equal the node's output count.
    @Test func aSplitWhoseNumOutputsDisagreesWithItsOutputsIsNamed() throws {
        let bytes = try ModelBuilder.model(opset: 18, nodes: [ModelBuilder.node("Split", ["x"], ["y"], [ModelBuilder.int("num_outputs", 1 << 40)])],
                                           inputs: [("x", [8, 8])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.description == "model.onnx: error: node 0 (Split, domain ai.onnx, opset 18): num_outputs is 1099511627776 but the node names 1 output; ONNX requires them to be equal", "\(error.description)")
    }

    /// Found by a sweep of extreme values over every integer attribute of ONNX's node tests: a
    /// stride of 0 divided by zero in SAME padding, and huge strides, dilations and pads overflowed
    /// the window arithmetic. Window attributes are read within bounds no real model reaches.
    @Test func windowAttributesOutOfRangeAreNamed() throws {
        let stride0 = try ModelBuilder.model(nodes: [ModelBuilder.node("AveragePool", ["x"], ["y"], [ModelBuilder.ints("kernel_shape", [3, 3]), ModelBuilder.ints("strides", [0, 0]), ModelBuilder.string("auto_pad", "SAME_UPPER")])],
                                             inputs: [("x", [1, 1, 8, 8])], outputs: ["y"])
        let stride0Error = try #require(importError(stride0))
        #expect(stride0Error.message.hasSuffix("attribute 'strides' is [0, 0]; its values must lie between 1 and 16777216"), "\(stride0Error.message)")

        let dilation = try ModelBuilder.model(nodes: [ModelBuilder.node("ConvTranspose", ["x", "w"], ["y"], [ModelBuilder.ints("dilations", [Int.max, 1])])],
                                              inputs: [("x", [1, 1, 3, 3]), ("w", [1, 1, 2, 2])], outputs: ["y"])
        let dilationError = try #require(importError(dilation))
        #expect(dilationError.message.hasSuffix("attribute 'dilations' is [9223372036854775807, 1]; its values must lie between 1 and 16777216"), "\(dilationError.message)")
    }

    /// Found by the same sweep: the importer built a result whose element count overflows, which
    /// only the verifier noticed (as an internal error). Every result is now checked as it is built.
    @Test func aResultWhoseElementCountOverflowsIsNamedAtItsNode() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("ConvTranspose", ["x", "w"], ["y"], [ModelBuilder.ints("strides", [1 << 24, 1 << 24])])],
                                           inputs: [("x", [1, 1, 1024, 1024]), ("w", [1, 1, 1, 1])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message.hasSuffix("gives conv_transpose2d a result of type f32[1,1,17163091969,17163091969]: its element count overflows a 64-bit integer"), "\(error.message)")
    }

    @Test func anInputWhoseElementCountOverflowsIsNamed() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"])],
                                           inputs: [("x", [1 << 62, 4])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message == "graph input 'x' has the shape [4611686018427387904,4]: its element count overflows a 64-bit integer")
    }

    @Test func anOpOfAnotherDomainIsNamed() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("FusedMatMul", ["x", "x"], ["y"], domain: "com.microsoft")],
                                           inputs: [("x", [2, 2])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message == "node 0 (FusedMatMul, domain com.microsoft, opset 17): ops of domain 'com.microsoft' are not supported; attnc imports the default domain ai.onnx only")
    }

    @Test func anUnsupportedOpsetIsNamed() throws {
        let bytes = try ModelBuilder.model(opset: 99, nodes: [ModelBuilder.node("Relu", ["x"], ["y"])], inputs: [("x", [2])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.description == "model.onnx: error: uses ai.onnx opset 99; attnc imports opsets 1 to 28")
    }

    @Test func anUnsupportedInitializerDtypeIsNamed() throws {
        var initializer = Onnx_TensorProto()
        initializer.name = "w"
        initializer.dataType = 11
        initializer.dims = [2]
        initializer.doubleData = [1, 2]
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Add", ["x", "w"], ["y"])], inputs: [("x", [2])], outputs: ["y"],
                                           initializers: [initializer])
        let error = try #require(importError(bytes))
        #expect(error.message == "initializer 'w': dtype DOUBLE is not supported; attnc imports float, int64, int32, int8, uint8 and bool tensors")
    }

    @Test func anInitializerWithTooFewBytesIsNamed() throws {
        var initializer = ModelBuilder.tensor("w", TensorData(shape: [2], floats: [1, 2]))
        initializer.rawData = initializer.rawData.prefix(5)
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Add", ["x", "w"], ["y"])], inputs: [("x", [2])], outputs: ["y"],
                                           initializers: [initializer])
        let error = try #require(importError(bytes))
        #expect(error.message == "initializer 'w': raw_data holds 5 bytes but dims [2] of FLOAT need 8")
    }

    @Test func anInitializerWithTooManyBytesIsNamed() throws {
        var initializer = ModelBuilder.tensor("w", TensorData(shape: [2], floats: [1, 2]))
        initializer.rawData = ModelBuilder.tensor("w", TensorData(shape: [4], floats: [1, 2, 3, 4])).rawData
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Add", ["x", "w"], ["y"])], inputs: [("x", [2])], outputs: ["y"],
                                           initializers: [initializer])
        let error = try #require(importError(bytes, path: "long_init.onnx"))
        #expect(error.description == "long_init.onnx: error: initializer 'w': raw_data holds 16 bytes but dims [2] of FLOAT need 8")
    }

    /// The element count is checked before any bytes are read, so dims whose product overflows
    /// are refused whatever data comes with them.
    @Test func anInitializerWhoseElementCountOverflowsIsNamed() throws {
        var initializer = ModelBuilder.tensor("w", TensorData(shape: [2], floats: [1, 2]))
        initializer.dims = [4_294_967_296, 4_294_967_296]
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Add", ["x", "w"], ["y"])], inputs: [("x", [2])], outputs: ["y"],
                                           initializers: [initializer])
        let error = try #require(importError(bytes, path: "overflow_init.onnx"))
        #expect(error.description == "overflow_init.onnx: error: initializer 'w': dims [4294967296, 4294967296] hold too many elements")
    }

    @Test func anUnsupportedAttributeValueNamesTheNode() throws {
        let bytes = try ModelBuilder.model(opset: 20, nodes: [ModelBuilder.node("Gelu", ["x"], ["y"], name: "act", [ModelBuilder.string("approximate", "erf")])],
                                           inputs: [("x", [2])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message == "node 0 'act' (Gelu, domain ai.onnx, opset 20): attribute approximate='erf' is not supported; attnc supports 'none', 'tanh'")
    }

    @Test func anUnknownAttributeIsReported() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"], [ModelBuilder.int("alpha", 2)])],
                                           inputs: [("x", [2])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message == "node 0 (Relu, domain ai.onnx, opset 17): attribute 'alpha' is not supported (attnc reads none)")
    }

    @Test func anUndefinedInputIsReported() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Add", ["x", "ghost"], ["y"])], inputs: [("x", [2])], outputs: ["y"])
        let error = try #require(importError(bytes))
        #expect(error.message == "node 0 (Add, domain ai.onnx, opset 17): input 'ghost' is not defined by an earlier node, a graph input or an initializer")
    }

    @Test func aRuntimeShapeOperandIsReported() throws {
        let bytes = try ModelBuilder.model(nodes: [ModelBuilder.node("Reshape", ["x", "shape"], ["y"])],
                                           inputs: [("x", [2, 3]), ("shape", [2])], outputs: ["y"], inputTypes: [1, 7])
        let error = try #require(importError(bytes))
        #expect(error.message == "node 0 (Reshape, domain ai.onnx, opset 17): the shape (input 1, 'shape') must be known at import time, but it is computed at run time")
    }
}

/// A small deterministic generator for the fuzz test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
