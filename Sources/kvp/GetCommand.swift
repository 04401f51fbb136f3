import ArgumentParser
import KVPStore

/// `kvp get KEY`: the value of the first record with KEY.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the value of KEY (first match; pools searched 0..4 unless --pool).")

    @OptionGroup var options: PoolOptions
    @Argument(help: "Key (exact, case-sensitive).") var key: String

    func run() throws {
        let store = try options.store(writable: false)
        for pool in try options.readPools() {
            guard let r = try poolIO({ try store.file(pool).first(key: Array(key.utf8)) }) else { continue }
            if options.json {
                print("{\"pool\":\(Output.json(pool.name)),\"number\":\(pool.rawValue),\"key\":\(Output.json(r.keyString)),\"value\":\(Output.json(r.valueString))}")
            } else {
                print(r.valueString)
            }
            return
        }
        Output.error("kvp: key '\(key)' not found")
        throw ExitCode(Status.notFound)
    }
}
