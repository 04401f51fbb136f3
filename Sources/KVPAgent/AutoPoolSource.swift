/// Supplies the intrinsic items of the auto pool (pool 2, docs/PROTOCOL.md §7.17).
///
/// Entries come in hv_kvp_daemon's index order: FullyQualifiedDomainName,
/// IntegrationServicesVersion, NetworkAddressIPv4, NetworkAddressIPv6,
/// OSBuildNumber, OSName, OSMajorVersion, OSMinorVersion, OSVersion,
/// ProcessorArchitecture.  The host walks them with ENUMERATE index 0, 1, …
/// until HV_S_CONT.  The engine replaces the value of
/// IntegrationServicesVersion with the version its front end registered
/// (the kernel's "3.1"), which only the front end knows.
///
/// Called on the request path: it must answer from state it keeps current
/// and never block (no DNS look-up, no process spawn per call).
public protocol AutoPoolSource {
    func autoPoolEntries() -> [(key: String, value: String)]
}
