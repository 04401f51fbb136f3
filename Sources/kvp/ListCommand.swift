import ArgumentParser
import KVPStore

/// `kvp list`: keys, one per line.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List keys: 'POOL<TAB>KEY' lines for all pools, bare keys with --pool.")

    @OptionGroup var options: PoolOptions

    func run() throws {
        let store = try options.store(writable: false)
        let pools = try options.readPools()
        var items: [String] = []
        for pool in pools {
            for r in try poolIO({ try store.file(pool).allRecords() }) {
                if options.json {
                    items.append("{\"pool\":\(Output.json(pool.name)),\"key\":\(Output.json(r.keyString))}")
                } else if options.pool == nil {
                    print("\(pool.name)\t\(Output.escaped(r.keyString))")
                } else {
                    print(Output.escaped(r.keyString))
                }
            }
        }
        if options.json { print("[" + items.joined(separator: ",") + "]") }
    }
}
