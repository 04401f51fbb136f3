import ArgumentParser
import KVPStore

/// Size limits of a key/value the CLI writes.
///
/// Hard limits are the pool-file fields (511 / 2047 bytes of UTF-8 plus the
/// NUL).  The host reads at most 254 / 1022 UTF-16 units (the kernel cuts
/// longer ones silently when it forwards an ENUMERATE), so past those we
/// warn, or fail with --strict-host-limits.
enum Limits {
    static let hostKeyUnits = 254
    static let hostValueUnits = 1022

    static func check(key: String, value: String, strict: Bool) throws {
        if key.isEmpty { throw ValidationError("key is empty") }
        if key.utf8.contains(0) || value.utf8.contains(0) {
            throw ValidationError("key and value cannot contain NUL bytes")
        }
        if key.utf8.count > PoolRecord.maxKeyBytes {
            throw ValidationError("key is \(key.utf8.count) bytes of UTF-8; the limit is \(PoolRecord.maxKeyBytes)")
        }
        if value.utf8.count > PoolRecord.maxValueBytes {
            throw ValidationError("value is \(value.utf8.count) bytes of UTF-8; the limit is \(PoolRecord.maxValueBytes)")
        }
        var problems: [String] = []
        if key.utf16.count > hostKeyUnits {
            problems.append("key is \(key.utf16.count) UTF-16 units; the host reads at most \(hostKeyUnits)")
        }
        if value.utf16.count > hostValueUnits {
            problems.append("value is \(value.utf16.count) UTF-16 units; the host reads at most \(hostValueUnits)")
        }
        guard !problems.isEmpty else { return }
        if strict { throw ValidationError(problems.joined(separator: "; ")) }
        for p in problems { Output.error("kvp: warning: \(p) (the host will see it cut)") }
    }
}
