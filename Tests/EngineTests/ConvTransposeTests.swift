import Codegen
import GraphIR
import RandomGraphs
import Testing

/// conv_transpose2d compiled through the JIT (packed matmul, then col2im) against the
/// interpreter, on the host's vectors and on AVX2's, 1, 2 and 3 threads.
@Suite struct ConvTransposeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// `[N, C, H, W]`.
        var input: [Int]
        var outputChannelsPerGroup: Int
        var kernel: [Int]
        var attributes: ConvTranspose2DAttributes
        var bias: Bool

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "3x3 stride 1", input: [2, 4, 5, 7], outputChannelsPerGroup: 3, kernel: [3, 3],
             attributes: ConvTranspose2DAttributes(), bias: true),
        Case(name: "3x3 stride 2 padding 1 output_padding 1", input: [2, 4, 5, 7], outputChannelsPerGroup: 3, kernel: [3, 3],
             attributes: ConvTranspose2DAttributes(stride: [2, 2], padding: Padding2D(1, 1), outputPadding: [1, 1]), bias: true),
        Case(name: "4x4 stride 3 uneven padding, no bias", input: [1, 3, 6, 5], outputChannelsPerGroup: 5, kernel: [4, 4],
             attributes: ConvTranspose2DAttributes(stride: [3, 3], padding: Padding2D(top: 0, left: 1, bottom: 2, right: 1)), bias: false),
        Case(name: "3x3 stride 2 dilation 2 groups 2", input: [2, 6, 5, 6], outputChannelsPerGroup: 2, kernel: [3, 3],
             attributes: ConvTranspose2DAttributes(stride: [2, 2], dilation: [2, 2], groups: 2), bias: true),
        Case(name: "4x4 stride 2 padding 1 groups 2 (upsampling), odd sizes", input: [1, 4, 7, 9], outputChannelsPerGroup: 3, kernel: [4, 4],
             attributes: ConvTranspose2DAttributes(stride: [2, 2], padding: Padding2D(1, 1), groups: 2), bias: false),
        Case(name: "3x2 stride [1,2] dilation [2,1] output_padding [0,1]", input: [1, 3, 5, 33], outputChannelsPerGroup: 2, kernel: [3, 2],
             attributes: ConvTranspose2DAttributes(stride: [1, 2], outputPadding: [0, 1], dilation: [2, 1]), bias: true),
        Case(name: "1x1 stride 1: the matmul writes the output", input: [2, 5, 3, 7], outputChannelsPerGroup: 4, kernel: [1, 1],
             attributes: ConvTranspose2DAttributes(), bias: true),
        Case(name: "1x1 stride 1 groups 2, no bias", input: [1, 4, 5, 5], outputChannelsPerGroup: 3, kernel: [1, 1],
             attributes: ConvTranspose2DAttributes(groups: 2), bias: false),
        Case(name: "1x1 stride 2", input: [1, 3, 4, 5], outputChannelsPerGroup: 2, kernel: [1, 1],
             attributes: ConvTranspose2DAttributes(stride: [2, 2]), bias: true),
        Case(name: "3x3 stride 1 padding 1, wide rows (vectors and tails)", input: [1, 2, 3, 65], outputChannelsPerGroup: 2, kernel: [3, 3],
             attributes: ConvTranspose2DAttributes(padding: Padding2D(1, 1)), bias: true),
        Case(name: "3x3 stride 2, channels past the matmul tile", input: [1, 20, 9, 9], outputChannelsPerGroup: 17, kernel: [3, 3],
             attributes: ConvTranspose2DAttributes(stride: [2, 2]), bias: true),
        Case(name: "padding larger than a tap's reach", input: [1, 2, 4, 4], outputChannelsPerGroup: 2, kernel: [2, 2],
             attributes: ConvTranspose2DAttributes(stride: [2, 2], padding: Padding2D(3, 3)), bias: false),
    ]

    @Test(arguments: cases)
    func matchesTheInterpreter(_ c: Case) throws {
        let builder = GraphBuilder("conv_transpose")
        let x = builder.input("x", TensorType(.f32, dims: c.input))
        let groups = c.attributes.groups
        let weight = builder.weight("weight", TensorType(.f32, dims: [c.input[1], c.outputChannelsPerGroup] + c.kernel))
        let bias = c.bias ? [builder.weight("bias", TensorType(.f32, dims: [c.outputChannelsPerGroup * groups]))] : []
        let y = builder.apply(.convTranspose2d(c.attributes), [x, weight] + bias)[0]
        builder.output(y, as: "y")
        builder.output(y.relu(), as: "activated")
        let graph = try builder.finish()
        let (inputs, weights) = (randomInputs(for: graph, seed: 5), randomWeights(for: graph, seed: 5))
        let problems = try TestTargets.problems(graph, inputs: inputs, weights: weights)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n\(printGraph(graph))")
    }
}
