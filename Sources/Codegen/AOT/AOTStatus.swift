/// The status codes an AOT module's functions return. The numbers are part of the C ABI
/// (docs/AOT.md): never renumber, only add.
enum AOTStatus: Int, CaseIterable {
    case ok = 0
    case nullInputs = 1
    case nullOutputs = 2
    case nullScratch = 3
    case misalignedScratch = 4
    case noWeights = 5
    case nullWeights = 6
    case misalignedWeights = 7
    case weightsSize = 8
    case weightsFormat = 9
    case weightsChecksum = 10

    /// The macro suffix: `PREFIX_ERROR_NULL_INPUTS`.
    var macro: String {
        switch self {
        case .ok: return "OK"
        case .nullInputs: return "ERROR_NULL_INPUTS"
        case .nullOutputs: return "ERROR_NULL_OUTPUTS"
        case .nullScratch: return "ERROR_NULL_SCRATCH"
        case .misalignedScratch: return "ERROR_MISALIGNED_SCRATCH"
        case .noWeights: return "ERROR_NO_WEIGHTS"
        case .nullWeights: return "ERROR_NULL_WEIGHTS"
        case .misalignedWeights: return "ERROR_MISALIGNED_WEIGHTS"
        case .weightsSize: return "ERROR_WEIGHTS_SIZE"
        case .weightsFormat: return "ERROR_WEIGHTS_FORMAT"
        case .weightsChecksum: return "ERROR_WEIGHTS_CHECKSUM"
        }
    }

    /// What the code means, for the header's comment.
    var meaning: String {
        switch self {
        case .ok: return "success"
        case .nullInputs: return "run: inputs is NULL or one of its pointers is NULL"
        case .nullOutputs: return "run: outputs is NULL or one of its pointers is NULL"
        case .nullScratch: return "run: scratch is NULL but scratch_size() is not 0"
        case .misalignedScratch: return "run: scratch is not 64-byte aligned"
        case .noWeights: return "run: weights mode file, and set_weights has not succeeded yet"
        case .nullWeights: return "set_weights: data is NULL"
        case .misalignedWeights: return "set_weights: data is not 64-byte aligned"
        case .weightsSize: return "set_weights: size is not WEIGHTS_FILE_SIZE"
        case .weightsFormat: return "set_weights: not a weights file, or one for another model (magic, version or layout differ)"
        case .weightsChecksum: return "set_weights: the payload checksum does not match (corrupt file)"
        }
    }

    /// Whether the code can occur in a module of this weights mode.
    func applies(to mode: WeightsMode) -> Bool { mode == .file || rawValue < AOTStatus.noWeights.rawValue }
}
