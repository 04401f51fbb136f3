import HVProtocol

/// The version lists a host puts in its NEGOTIATE request.
///
/// Real Windows lists are not documented (docs/PROTOCOL.md §9); the defaults are openvmm's host lists
/// (ascending, as openvmm writes them) and Linux-named hints for the services openvmm lacks.
public struct HostVersionOffer: Hashable, Sendable {
    public var frameworkVersions: [ICVersion]
    public var serviceVersions: [ICVersion]

    public init(frameworkVersions: [ICVersion], serviceVersions: [ICVersion]) {
        self.frameworkVersions = frameworkVersions
        self.serviceVersions = serviceVersions
    }

    /// openvmm `FRAMEWORK_VERSIONS`.
    public static let frameworks: [ICVersion] = [ICVersion(1, 0), ICVersion(3, 0)]

    /// A Windows-like offer for `kind`.
    ///
    /// The host's own lists, not ``ICServiceID``'s: those are what the *guest* offers, and a host
    /// that copied them would never exercise the guest's choice among versions.
    public static func windows(_ kind: ICServiceID) -> HostVersionOffer {
        switch kind {
        case .heartbeat: HostVersionOffer(frameworkVersions: frameworks, serviceVersions: [ICVersion(1, 0), ICVersion(3, 0)])
        case .shutdown:
            HostVersionOffer(
                frameworkVersions: frameworks,
                serviceVersions: [ICVersion(1, 0), ICVersion(3, 0), ICVersion(3, 1), ICVersion(3, 2)])
        case .timesync: HostVersionOffer(frameworkVersions: frameworks, serviceVersions: [ICVersion(4, 0)])
        case .kvp: HostVersionOffer(frameworkVersions: frameworks, serviceVersions: [ICVersion(3, 0), ICVersion(4, 0), ICVersion(5, 0)])
        // Framework 1.0 as well, so the guest's choice of 3.0 is exercised (docs/PROTOCOL.md §6.6).
        case .fcopy: HostVersionOffer(frameworkVersions: frameworks, serviceVersions: [ICVersion(1, 1)])
        // openvmm's VSS constants 4.0 (WIN8) … 7.0 (THRESHOLD_UR1); a correct guest picks 5.0.
        case .vss: HostVersionOffer(frameworkVersions: frameworks, serviceVersions: [ICVersion(4, 0), ICVersion(5, 0), ICVersion(6, 0), ICVersion(7, 0)])
        }
    }

    /// An older host: timesync without the reference time (v3).
    public static let timesyncV3 = HostVersionOffer(frameworkVersions: frameworks, serviceVersions: [ICVersion(1, 0), ICVersion(3, 0)])
    /// WS2008-style: framework 1.0 and service 1.0 only.
    public static let ws2008 = HostVersionOffer(frameworkVersions: [ICVersion(1, 0)], serviceVersions: [ICVersion(1, 0)])
    /// Nothing the guest supports: no common service version.
    public static let noServiceMatch = HostVersionOffer(frameworkVersions: frameworks, serviceVersions: [ICVersion(9, 0)])
    /// Nothing the guest supports: no common framework version.
    public static let noFrameworkMatch = HostVersionOffer(frameworkVersions: [ICVersion(2, 0)], serviceVersions: [ICVersion(3, 0)])
}
