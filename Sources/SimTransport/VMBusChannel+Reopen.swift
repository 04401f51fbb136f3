import RingTransport

extension VMBusChannel {
    /// A fresh end of this channel over the same rings and doorbell, for a channel that is opened
    /// again (``SimControlMessage/Kind/opened`` after ``SimControlMessage/Kind/closed``). This end
    /// must not be used any more.
    ///
    /// Why nothing is reformatted: formatting would zero indices the peer may still be using (its
    /// close report and its last writes travel on different paths), and each index has one writer
    /// anyway, so both ends simply continue from the headers. What this end has not read yet
    /// belongs to the previous open and is dropped by moving its own `read_index` up to the
    /// peer's `write_index`; an announced `pending_send_sz` is withdrawn. A reply that crosses the
    /// re-open still arrives afterwards; the IC layer skips it (a reply of the wrong type while
    /// negotiating, or a request before NEGOTIATE).
    ///
    /// - Throws: ``ChannelError/ring(_:)`` when the headers hold indices no end can use (only a
    ///   fresh offer helps then).
    public func reopened() throws(ChannelError) -> VMBusChannel {
        let ring = inbound.ring
        let write = ring.header.writeIndex.load(ordering: .acquiring)
        if ring.isValidIndex(write) {
            ring.header.readIndex.store(write, ordering: .releasing)
        }
        outbound.ring.header.pendingSendSize.store(0, ordering: .releasing)
        let headerSize = outbound.ring.data - outbound.ring.header.base
        return try VMBusChannel(memory: memory, ringSize: ringSize, headerSize: headerSize, doorbell: doorbell, role: role,
                                idleSpin: inbound.idleSpin)
    }
}
