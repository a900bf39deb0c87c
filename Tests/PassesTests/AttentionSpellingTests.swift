import GraphIR
import Passes
import Testing

/// The attention spelling set (issue 4, item 4): `Spellings/*.gir`, each a small complete graph
/// writing softmax attention one way. Through the standard pipeline each must become exactly one
/// `attention` op, with no softmax left and one `fused` remark from fuse-attention — what
/// `attnc dump Spellings/X.gir --stage graph --remarks` shows — and its CHECK and REMARK lines pin
/// the fused op and the remark. That the fused graph computes what the spelling does is checked
/// by `NumericalEquivalenceTests.pipelineKeepsTheMeaning`.
@Suite struct AttentionSpellingTests {
    @Test(arguments: TestGraph.spellings())
    func spellingFusesIntoOneAttention(_ spelling: TestGraph) throws {
        let graph = try spelling.parse()
        var fused = graph
        let context = PassContext()
        try PassPipeline.standard(fuse: true).run(&fused, context: context, options: .init(verifyEachPass: true))
        let remarks = context.remarks.filter { $0.pass == "fuse-attention" }
        if !spelling.has(.remark) { spelling.record("a spelling pins its fuse-attention remark with a REMARK line") }
        spelling.expectDirectives(output: printGraph(fused), remarks: remarks) {
            var problems: [String] = []
            let attentions = fused.nodes.filter { $0.op.isAttention }.count
            if attentions != 1 { problems.append("\(attentions) attention ops, not 1:\n\(printGraph(fused))") }
            if fused.nodes.contains(where: { $0.op.isSoftmax }) { problems.append("a softmax is left:\n\(printGraph(fused))") }
            if remarks.map(\.kind) != [.fused] { problems.append("fuse-attention remarks: \(remarks.map(\.description))") }
            return problems
        }
    }

    /// Each bullet of issue 4 item 4 and the spellings that write it; none may go missing.
    static let coverage: [(bullet: String, files: [String])] = [
        ("scale as multiply or divide, on the scores, on Q, on K, or folded into weights",
         ["scale_mul_scores", "scale_div_scores", "scale_computed_sqrt", "scale_on_query", "scale_on_key",
          "scale_split_between_query_and_key", "scale_folded_into_weights"]),
        ("additive masks of several broadcastable shapes",
         ["mask_additive_square", "mask_additive_per_batch", "mask_key_padding", "mask_extended_attention_mask",
          "mask_before_scale", "mask_sliced"]),
        ("causal masks as constant tensors", ["causal_constant_bool", "causal_constant_additive", "causal_sliced_buffer"]),
        ("causal masks as iota/compare/select",
         ["causal_iota_gt", "causal_iota_lt", "causal_iota_ge_row_plus_one", "causal_iota_broadcast_vectors"]),
        ("causal masks as select(mask, x, -inf) with the inverted predicate", ["causal_select_inverted"]),
        ("causal masks as the ONNX importer spells them",
         ["causal_trilu_onnx", "causal_tril_float_onnx", "causal_additive_where_onnx", "causal_onnx_attention_op"]),
        ("banded masks as iota/compare/select, fused without the causal flag", ["banded_iota", "banded_nested_selects"]),
        ("multi-head reshapes and transposes in different orders",
         ["heads_reshape_then_transpose", "heads_transpose_then_reshape", "heads_merged_with_batch", "key_pretransposed",
          "key_explicit_transpose", "qkv_sequence_major", "scores_keys_first"]),
        ("SAGAN's NCHW layout", ["sagan_nchw"]),
        ("Linformer's projected keys and values", ["linformer_projected"]),
        ("cross-attention with different query and key lengths", ["cross_attention_lengths"]),
        ("Luong dot, general and concat", ["luong_dot", "luong_general", "luong_concat"]),
        ("Bahdanau additive", ["bahdanau_additive", "bahdanau_matmul_weights"]),
        ("beyond the list: multi-query attention", ["multi_query_shared_key_value"]),
        ("beyond the list: masked_fill with a large finite negative (a select mask with that fill, not causal)",
         ["mask_filled_finite", "mask_filled_finfo_min", "mask_filled_finite_over_causal", "causal_where_finite_then_padding"]),
    ]

    @Test func theSetCoversEveryBulletOfTheIssue() {
        let files = Set(TestPaths.girFiles(in: TestPaths.spellings).map { $0.deletingPathExtension().lastPathComponent })
        for (bullet, names) in Self.coverage {
            for name in names { #expect(files.contains(name), "Spellings/\(name).gir (\(bullet)) is missing") }
        }
        let listed = Set(Self.coverage.flatMap(\.files))
        for file in files.subtracting(listed) { Issue.record("Spellings/\(file).gir is not listed under any bullet") }
    }
}
