import ArgumentParser
import KVPStore

/// Options shared by every subcommand.
struct PoolOptions: ParsableArguments {
    @Option(name: .long, help: "Pool: external/0, guest/1, auto/2, host/3, internal/4 (reads default to all, writes to guest).")
    var pool: String?

    @Option(name: .long, help: "Directory of the pool files.")
    var poolDir: String = PoolStore.defaultDirectory

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    /// The selected pools; all of them for reads when --pool is absent.
    func readPools() throws -> [KVPPool] {
        guard let p = pool else { return KVPPool.allCases }
        return [try parse(p)]
    }

    /// The pool to write; guest when --pool is absent.
    func writePool() throws -> KVPPool {
        let p = try pool.map(parse) ?? .guest
        if p == .auto {
            throw ValidationError("the auto pool (2) is synthesised by the daemon; its file is never read")
        }
        return p
    }

    private func parse(_ text: String) throws -> KVPPool {
        guard let p = KVPPool(argument: text) else {
            throw ValidationError("unknown pool '\(text)': use external/0, guest/1, auto/2, host/3 or internal/4")
        }
        return p
    }

    /// Opens the store; a failure exits with status 3.
    func store(writable: Bool) throws -> PoolStore {
        do {
            return try PoolStore(directory: poolDir, writable: writable)
        } catch {
            Output.error("kvp: \(error)")
            throw ExitCode(Status.ioError)
        }
    }
}

/// Runs pool-file I/O, turning its errors into exit status 3.
func poolIO<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as PoolError {
        Output.error("kvp: \(e)")
        throw ExitCode(Status.ioError)
    }
}
