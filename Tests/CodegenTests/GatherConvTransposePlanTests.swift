import Codegen
import GraphIR
import Testing

/// What `attnc dump --stage kernel` prints for gather and conv_transpose2d, pinned whole.
@Suite struct GatherConvTransposePlanTests {
    static func plan(_ text: String) throws -> String {
        try planKernels(try parseGraph(text), tile: MatmulTile(rows: 6, columns: 16)).description
    }

    /// One copy kernel over `[outer, axis, inner]`, reading the indices where they are.
    @Test func gatherIsOneCopyKernel() throws {
        let plan = try Self.plan("""
            graph g(%table: f32[10,4,6], %ids: i64[2,3]) {
              %y = gather(%table, %ids, axis=1) : f32[10,2,3,6]
              return %y
            }
            """)
        #expect(plan == """
            kernel plan g: 3 buffers, 1 kernels, arena 0 bytes
              b0 table: f32 x 240 input 0
              b1 ids: i64 x 6 input 1
              b2 y: f32 x 360 output 0
              k0 gather b0[outer 10, axis 4, inner 6] at b1 (i64 x 6) -> b2

            """)
    }

    /// The weight packed once (transposed) at setup, the image packed per run, a matmul per
    /// image and group into the columns, and col2im with the bias into the output.
    @Test func convTransposeIsAMatmulAndCol2Im() throws {
        let plan = try Self.plan("""
            graph g(%x: f32[2,4,5,7]) {
              weight @w: f32[4,3,3,3]
              weight @b: f32[6]
              %y = conv_transpose2d(%x, @w, @b, stride=[2,2], padding=[1,1], output_padding=[1,1], groups=2) : f32[2,6,10,14]
              return %y
            }
            """)
        #expect(plan == """
            kernel plan g: 7 buffers, 3 kernels, arena 16704 bytes, 1 setup kernels, 512 persistent bytes
              b0 x: f32 x 280 input 0
              b1 w: f32 x 108 weight 0
              b2 b: f32 x 6 weight 1
              b3 y: f32 x 1680 output 0
              b4 w.packed: f32 x 120 persistent @0
              b5 x.packed: f32 x 384 arena @15168
              b6 y.columns: f32 x 3780 arena @0
              setup0 pack left b1[batch [54], row 1, column 27] batch [2] 27x2 in 6x16 tiles -> b4
              k0 pack right b0[batch [140,70], row 35, column 1] batch [2,2] 2x35 in 6x16 tiles -> b5
              k1 matmul batch [2,2] 27x35x2 b4 * b5 -> b6[batch [1890,945], row 35] tile 6x16
              k2 col2im b6[2x2x27x35] kernel 3x3 stride [2,2] dilation [1,1] padding top 1 left 1 + b2 -> b3[2x6x10x14]

            """)
    }

    /// A 1×1 kernel with stride 1 places every pixel on itself: no col2im, the matmul adds the bias.
    @Test func pointwiseConvTransposeIsOneMatmul() throws {
        let plan = try Self.plan("""
            graph g(%x: f32[1,8,3,5]) {
              weight @w: f32[8,4,1,1]
              weight @b: f32[4]
              %y = conv_transpose2d(%x, @w, @b) : f32[1,4,3,5]
              return %y
            }
            """)
        #expect(plan == """
            kernel plan g: 6 buffers, 2 kernels, arena 512 bytes, 1 setup kernels, 192 persistent bytes
              b0 x: f32 x 120 input 0
              b1 w: f32 x 32 weight 0
              b2 b: f32 x 4 weight 1
              b3 y: f32 x 60 output 0
              b4 w.packed: f32 x 48 persistent @0
              b5 x.packed: f32 x 128 arena @0
              setup0 pack left b1[batch [32], row 1, column 4] batch [1] 4x8 in 6x16 tiles -> b4
              k0 pack right b0[batch [120,120], row 15, column 1] batch [1,1] 8x15 in 6x16 tiles -> b5
              k1 matmul batch [1,1] 4x15x8 b4 * b5 + b2[0,4,1,0] -> b3[batch [60,60], row 15] tile 6x16

            """)
    }
}
