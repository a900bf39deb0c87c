import GraphIR

/// Every ONNX op type attnc imports (default domain), with its converter. Each family of ops
/// lives in its own file; this table only gathers them.
let converterTable: [String: NodeConverter] = {
    var table: [String: NodeConverter] = [:]
    for family in [elementwiseConverters, reductionConverters, linearAlgebraConverters, convolutionConverters,
                   layoutConverters, shapeArithmeticConverters, normalizationConverters, maskConverters, attentionConverters] {
        table.merge(family) { _, _ in preconditionFailure("an op type is listed in two converter families") }
    }
    return table
}()

/// A converter's one result.
func single(_ id: ValueID) -> [ImportValue] { [.runtime(id)] }
