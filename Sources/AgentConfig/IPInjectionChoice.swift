/// `[kvp] ip_injection`: whether and how a host SET_IP_INFO is applied (docs/ARCHITECTURE.md,
/// "IP injection"). The backends that hand the configuration to NetworkManager,
/// systemd-networkd, netplan or the ifcfg layout are not there yet; until they are, the default
/// stays `off` (HV_E_FAIL, as before) rather than changing an interface behind its manager's back.
public enum IPInjectionChoice: String, ConfigChoice, Hashable {
    /// Answer HV_E_FAIL (HV_GUID_NOTFOUND for an unknown adapter); change nothing.
    case off
    /// Apply over rtnetlink, for interfaces no network manager looks after; not persistent.
    case netlink
}
