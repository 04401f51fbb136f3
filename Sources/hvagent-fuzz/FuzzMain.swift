// hvagent-fuzz: the fuzz targets as one binary.
// - Built with -D FUZZING -sanitize=fuzzer,address (scripts/fuzz.sh), libFuzzer's driver runs the
//   target named by $FUZZ_TARGET through LLVMFuzzerTestOneInput.
// - Built normally, `hvagent-fuzz TARGET FILE...` replays inputs (the corpus regression run).
import FuzzTargets

#if canImport(Glibc)
import Glibc
#endif

#if FUZZING
nonisolated(unsafe) var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if selected == nil {
        let name = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget.named(name) else {
            print("FUZZ_TARGET must be one of: \(FuzzTarget.all.map(\.name).joined(separator: ", "))")
            exit(2)
        }
        selected = target
    }
    selected?.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's entry when the program has its own main (SwiftPM links executables through
/// `<module>_main`, which would otherwise hide libFuzzer's main).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("hvagent_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, fuzzOne)
}
#else
@main
struct Replay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = FuzzTarget.named(name) else {
            print("usage: hvagent-fuzz TARGET FILE...   targets: \(FuzzTarget.all.map(\.name).joined(separator: " "))")
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            guard let bytes = readFile(path) else {
                print("cannot read \(path)")
                exit(1)
            }
            bytes.withUnsafeBytes { target.run($0) }
            count += 1
        }
        print("\(name): \(count) inputs replayed, no crash")
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        return bytes
    }
}
#endif
