/// The auto pool (pool 2) as hv_kvp_daemon synthesises it for host ENUMERATE requests: ten
/// records in a fixed index order, with upstream's key names and value formats (docs/PROTOCOL.md §7.17,
/// tools/hv/hv_kvp_daemon.c `enum key_index`).
public enum AutoPoolFormat {
    /// Keys by ENUMERATE index; index 10 and beyond is the end of the enumeration (HV_S_CONT).
    public static let keys = [
        "FullyQualifiedDomainName",
        "IntegrationServicesVersion",
        "NetworkAddressIPv4",
        "NetworkAddressIPv6",
        "OSBuildNumber",
        "OSName",
        "OSMajorVersion",
        "OSMinorVersion",
        "OSVersion",
        "ProcessorArchitecture",
    ]

    /// What hv_kvp_daemon reports before the kernel's registration reply arrives.
    public static let unknownIntegrationServicesVersion = "Unknown version"

    /// The kernel forwards at most 1022 UTF-16 units of a value to the host and cuts longer
    /// ones mid-address (docs/COMPATIBILITY.md B6); lists are therefore cut at an address boundary instead.
    public static let hostValueLimit = 1022

    /// The ten entries, index order.
    public static func entries(fqdn: String, integrationServicesVersion: String, ipv4: [String], ipv6: [String], os: OSInfo) -> [(key: String, value: String)] {
        let values = [
            fqdn,
            integrationServicesVersion,
            addressList(ipv4),
            addressList(ipv6),
            os.buildNumber,
            os.name,
            os.majorVersion,
            os.minorVersion,
            os.version,
            os.architecture,
        ]
        return zip(keys, values).map { (key: $0, value: $1) }
    }

    /// Addresses joined with ';' (none leading or trailing), cut at the last whole address that
    /// keeps the value within `limit` UTF-16 units. An empty list is an empty value.
    public static func addressList(_ addresses: [String], limit: Int = hostValueLimit) -> String {
        var result = ""
        var units = 0
        for a in addresses {
            let cost = a.utf16.count + (result.isEmpty ? 0 : 1)
            guard units + cost <= limit else { break }
            if !result.isEmpty { result += ";" }
            result += a
            units += cost
        }
        return result
    }
}
