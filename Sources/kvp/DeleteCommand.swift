import ArgumentParser
import KVPStore

/// `kvp delete KEY`.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete the first record with KEY (later records move up; order kept).")

    @OptionGroup var options: PoolOptions
    @Argument(help: "Key.") var key: String

    func run() throws {
        let pool = try options.writePool()
        let store = try options.store(writable: true)
        guard try poolIO({ try store.file(pool).delete(key: Array(key.utf8)) }) else {
            Output.error("kvp: key '\(key)' not found in pool \(pool.name)")
            throw ExitCode(Status.notFound)
        }
        if options.json {
            print("{\"pool\":\(Output.json(pool.name)),\"key\":\(Output.json(key)),\"result\":\"deleted\"}")
        }
    }
}
