import ArgumentParser
import HVSystem
import KVPStore
#if canImport(Glibc)
import Glibc
#endif

/// `kvp set KEY VALUE` / `kvp set KEY --stdin`.
struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set KEY to VALUE (modifies the first record with KEY in place, else appends).")

    @OptionGroup var options: PoolOptions
    @Argument(help: "Key.") var key: String
    @Argument(help: "Value (omit with --stdin).") var value: String?
    @Flag(name: .long, help: "Read the value from standard input (one trailing newline removed).")
    var stdin = false
    @Flag(name: .long, help: "Fail instead of warning when the host would see the key or value cut (254/1022 UTF-16 units).")
    var strictHostLimits = false

    func validate() throws {
        if stdin == (value != nil) {
            throw ValidationError("give either VALUE or --stdin")
        }
    }

    func run() throws {
        var text = value ?? ""
        if stdin {
            guard let input = Self.readStandardInput() else {
                throw ValidationError("standard input is not valid UTF-8")
            }
            text = input.hasSuffix("\n") ? String(input.dropLast()) : input
        }
        let pool = try options.writePool()
        try Limits.check(key: key, value: text, strict: strictHostLimits)
        guard let record = PoolRecord(key: key, value: text) else {
            throw ValidationError("invalid key or value")
        }
        let store = try options.store(writable: true)
        let outcome = try poolIO { try store.file(pool).set(record) }
        if options.json {
            let what: String
            switch outcome {
            case let .modified(i): what = "\"modified\",\"index\":\(i)"
            case let .appended(i): what = "\"appended\",\"index\":\(i)"
            }
            print("{\"pool\":\(Output.json(pool.name)),\"key\":\(Output.json(key)),\"result\":\(what)}")
        }
    }

    /// Whole standard input, or nil when it is not UTF-8.
    static func readStandardInput() -> String? {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(0, raw.baseAddress, raw.count) } }
            if n <= 0 { break }
            bytes += buf[0..<n]
            if bytes.count > 1 << 20 { break }  // far past any limit; the length check reports it
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
