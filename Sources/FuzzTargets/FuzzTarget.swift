/// A fuzz target: a function that must never crash, hang or read out of bounds, whatever the bytes.
///
/// The same table serves libFuzzer (`scripts/fuzz.sh TARGET SECONDS`, built with
/// `-sanitize=fuzzer,address`) and the regression run in the tests, which replays every file
/// of `Tests/Fuzz/corpus/TARGET/` through the plain build.
public struct FuzzTarget: Sendable {
    public let name: String
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    public init(name: String, run: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.run = run
    }

    /// Every target, by name.
    public static let all: [FuzzTarget] = [
        RingFuzzTargets.reader,
        RingFuzzTargets.writer,
        ConfigFuzzTarget.parser,
        ICFuzzTargets.heartbeat,
        ICFuzzTargets.shutdown,
        ICFuzzTargets.timesync,
        KVPFuzzTargets.kernelMessage,
        KVPFuzzTargets.hostMessage,
        KVPFuzzTargets.poolFile,
        KVPFuzzTargets.icKVP,
        FileCopyFuzzTargets.decoders,
        VSSFuzzTargets.decoders,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
