import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import HostSimulator
import HVProtocol
import KVPStore

/// The demo's KVP part: an engine over pools in a fresh temporary directory (never
/// /var/lib/hyperv) with this machine's real network facts behind the auto pool when netlink is
/// available; the host enumerates the auto pool and reads back a key the guest set.
final class DemoKVP {
    static let key = "hvagent-demo"

    /// A fresh directory for the demo's pools.
    let directory: String
    private let timeline: Timeline
    /// Whether the served KVP has live network facts behind its auto pool.
    var hasFacts = false

    init(timeline: Timeline) throws {
        self.timeline = timeline
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hvagent-demo-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Guest sets a key (as `kvp set` does, through the pool files), the host walks the auto pool
    /// and reads the key back. True when every step gave the expected answer.
    func exchange(with host: SimulatedHyperVHost) -> Bool {
        guard host.isReady(.kvp) else {
            timeline.log("demo", "kvp: channel not ready, KVP part skipped")
            return false
        }
        do {
            let value = "set by the guest at \(Date().formatted(.iso8601))"
            guard let record = PoolRecord(key: Self.key, value: value) else { return false }
            _ = try PoolStore(directory: directory, writable: true).file(.guest).set(record)
            timeline.log("guest", "kvp set --pool guest \(Self.key) \"\(value)\"  (pools in \(directory))")
            var ok = true
            if hasFacts {
                timeline.log("demo", "host enumerates the auto pool (this machine's live facts):")
                let walk = try host.kvpEnumerate(pool: KVPPool.auto.rawValue)
                ok = ok && walk.end == .noMoreItems && !walk.records.isEmpty
            } else {
                timeline.log("demo", "kvp: auto pool walk skipped (no network facts on this machine)")
            }
            let got = try host.kvpGet(pool: KVPPool.guest.rawValue, key: Self.key)
            ok = ok && got.status == .ok && got.value == value
            timeline.log("demo", "kvp: host read the guest's key " + (ok ? "back intact" : "with errors: \(got.status)"))
            return ok
        } catch {
            timeline.log("demo", "kvp: \(error)")
            return false
        }
    }

    func removeDirectory() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
