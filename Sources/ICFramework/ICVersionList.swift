/// The guest's version lists, newest first (docs/PROTOCOL.md §5.5).
///
/// Why newest first: negotiation takes the first guest entry the host also offers, so an
/// ascending list silently picks an old version (e.g. shutdown 3.1, and hibernate is never
/// offered). `ICVersionListTests` asserts every list here is strictly descending.
public enum ICVersionList {
    /// Framework versions for all ICs (Linux `fw_versions`).
    public static let framework: [ICVersion] = [ICVersion(3, 0), ICVersion(1, 0)]
    /// Heartbeat (Linux `hb_versions`).
    public static let heartbeat: [ICVersion] = [ICVersion(3, 0), ICVersion(1, 0)]
    /// Shutdown (Linux `sd_versions`); 3.2 is needed before a host sends hibernate.
    public static let shutdown: [ICVersion] = [ICVersion(3, 2), ICVersion(3, 1), ICVersion(3, 0), ICVersion(1, 0)]
    /// Timesync (Linux `ts_versions`); 4.0 carries the reference time.
    public static let timesync: [ICVersion] = [ICVersion(4, 0), ICVersion(3, 0), ICVersion(1, 0)]
    /// KVP (Linux `kvp_versions`).
    public static let kvp: [ICVersion] = [ICVersion(4, 0), ICVersion(3, 0), ICVersion(1, 0)]
    /// VSS (Linux `vss_versions`); framework 3.0 only.
    public static let vss: [ICVersion] = [ICVersion(5, 0)]
    /// fcopy (Linux WIN8_SRV_VERSION); framework 3.0 only.
    public static let fcopy: [ICVersion] = [ICVersion(1, 1)]
}
