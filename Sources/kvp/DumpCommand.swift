import ArgumentParser
import KVPStore

/// `kvp dump`: every record of every pool, in file order.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print every record: 'POOL<TAB>INDEX<TAB>KEY<TAB>VALUE' (tabs, newlines, backslashes escaped).")

    @OptionGroup var options: PoolOptions

    func run() throws {
        let store = try options.store(writable: false)
        var pools: [String] = []
        for pool in try options.readPools() {
            let records = try poolIO { try store.file(pool).allRecords() }
            if options.json {
                let items = records.map { "{\"key\":\(Output.json($0.keyString)),\"value\":\(Output.json($0.valueString))}" }
                pools.append("{\"pool\":\(Output.json(pool.name)),\"number\":\(pool.rawValue),\"records\":[\(items.joined(separator: ","))]}")
            } else {
                for (i, r) in records.enumerated() {
                    print("\(pool.name)\t\(i)\t\(Output.escaped(r.keyString))\t\(Output.escaped(r.valueString))")
                }
            }
        }
        if options.json { print("[" + pools.joined(separator: ",") + "]") }
    }
}
