/// The cached records of one pool file, in file order, packed to keep the daemon small.
///
/// A pool file spends 2,560 bytes per record; hv_kvp_daemon keeps all of them in memory (27 MB
/// at 10k keys). Two Swift arrays per record would still cost ~190 bytes each in headers and
/// allocator slack. Here every record's key and value bytes sit back to back in one arena, each
/// record has a 16-byte entry, and the first-occurrence index is an open-addressing table of
/// `Int32` slots, so 10k short keys cost well under 1 MB.
///
/// A value that grows is re-appended to the arena; the bytes it leaves behind (and those of
/// deleted records) are reclaimed by compacting once they are at least half the arena.
struct PoolRecordTable {
    private struct Entry {
        /// Where the key starts in `arena`; the value follows it directly.
        var offset: Int
        var keyCount: UInt16
        var valueCount: UInt16
        var byteCount: Int { Int(keyCount) + Int(valueCount) }
    }

    private var arena: [UInt8] = []
    private var entries: [Entry] = []
    /// Arena bytes no entry refers to any more.
    private var garbage = 0
    /// Open addressing, linear probing: record index + 1 of the first record with a key, 0 = empty.
    /// The capacity is a power of two at least twice the number of distinct keys.
    private var slots: [Int32] = []
    private var distinctKeys = 0

    var count: Int { entries.count }

    // MARK: Reading

    func record(at index: Int) -> PoolRecord? {
        guard index >= 0, index < entries.count else { return nil }
        let e = entries[index]
        return PoolRecord(trustedKey: Array(arena[e.offset..<(e.offset + Int(e.keyCount))]),
                          value: Array(arena[(e.offset + Int(e.keyCount))..<(e.offset + e.byteCount)]))
    }

    var allRecords: [PoolRecord] {
        (0..<entries.count).compactMap { record(at: $0) }
    }

    /// Index of the first record whose key equals `key` (hv_kvp_daemon's match).
    func firstIndex<Key: Collection>(of key: Key) -> Int? where Key.Element == UInt8 {
        guard !slots.isEmpty else { return nil }
        var slot = Self.hash(key) & (slots.count - 1)
        while slots[slot] != 0 {
            let index = Int(slots[slot]) - 1
            if keyEquals(index, key) { return index }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Whether record `index` has exactly this key and value.
    func matches<K: Collection, V: Collection>(_ index: Int, key: K, value: V) -> Bool
    where K.Element == UInt8, V.Element == UInt8 {
        guard index < entries.count, keyEquals(index, key) else { return false }
        let e = entries[index]
        return arena[(e.offset + Int(e.keyCount))..<(e.offset + e.byteCount)].elementsEqual(value)
    }

    // MARK: Changing

    /// Appends a record (file order) and indexes its key when it is the first with that key.
    /// Fields longer than a pool field are cut to it, as the file holds them.
    mutating func append<K: Collection, V: Collection>(key: K, value: V) where K.Element == UInt8, V.Element == UInt8 {
        let k = key.prefix(PoolRecord.keyFieldSize)
        let v = value.prefix(PoolRecord.valueFieldSize)
        let entry = Entry(offset: arena.count, keyCount: UInt16(k.count), valueCount: UInt16(v.count))
        arena.append(contentsOf: k)
        arena.append(contentsOf: v)
        entries.append(entry)
        if firstIndex(of: k) == nil { insertIndex(entries.count - 1, hash: Self.hash(k)) }
    }

    mutating func append(_ record: PoolRecord) {
        append(key: record.key, value: record.value)
    }

    /// Replaces the value of record `index` (its key is unchanged, so the index is too).
    mutating func replaceValue(at index: Int, with value: [UInt8]) {
        var e = entries[index]
        let v = value.prefix(PoolRecord.valueFieldSize)
        if v.count <= Int(e.valueCount) {
            let start = e.offset + Int(e.keyCount)
            arena.replaceSubrange(start..<(start + v.count), with: v)
            garbage += Int(e.valueCount) - v.count
        } else {
            let key = Array(arena[e.offset..<(e.offset + Int(e.keyCount))])
            garbage += e.byteCount
            e.offset = arena.count
            arena.append(contentsOf: key)
            arena.append(contentsOf: v)
        }
        e.valueCount = UInt16(v.count)
        entries[index] = e
        compactIfWasteful()
    }

    /// Removes record `index`; later records move up one place, as in the file.
    mutating func remove(at index: Int) {
        garbage += entries[index].byteCount
        entries.remove(at: index)
        compactIfWasteful()
        rebuildIndex()
    }

    mutating func removeAll() {
        self = PoolRecordTable()
    }

    // MARK: Private

    private func keyEquals<Key: Collection>(_ index: Int, _ key: Key) -> Bool where Key.Element == UInt8 {
        let e = entries[index]
        return Int(e.keyCount) == key.count && arena[e.offset..<(e.offset + Int(e.keyCount))].elementsEqual(key)
    }

    private static func hash<Key: Collection>(_ key: Key) -> Int where Key.Element == UInt8 {
        var hasher = Hasher()
        if key.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in key { hasher.combine(byte) }
        }
        return hasher.finalize()
    }

    private mutating func insertIndex(_ index: Int, hash: Int) {
        if (distinctKeys + 1) * 2 > slots.count {
            growIndex()
        }
        var slot = hash & (slots.count - 1)
        while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
        slots[slot] = Int32(index + 1)
        distinctKeys += 1
    }

    private mutating func growIndex() {
        var capacity = max(16, slots.count)
        while capacity < (distinctKeys + 1) * 2 { capacity *= 2 }
        if capacity == slots.count { capacity *= 2 }
        slots = [Int32](repeating: 0, count: capacity)
        distinctKeys = 0
        reindexAll()
    }

    private mutating func rebuildIndex() {
        slots = [Int32](repeating: 0, count: slots.count)
        distinctKeys = 0
        reindexAll()
    }

    private mutating func reindexAll() {
        for index in entries.indices {
            let e = entries[index]
            let key = arena[e.offset..<(e.offset + Int(e.keyCount))]
            if firstIndex(of: key) == nil { insertIndex(index, hash: Self.hash(key)) }
        }
    }

    private mutating func compactIfWasteful() {
        guard garbage > 4096, garbage * 2 >= arena.count else { return }
        var packed: [UInt8] = []
        packed.reserveCapacity(arena.count - garbage)
        for index in entries.indices {
            let e = entries[index]
            entries[index].offset = packed.count
            packed.append(contentsOf: arena[e.offset..<(e.offset + e.byteCount)])
        }
        arena = packed
        garbage = 0
    }
}
