import FoundationEssentials
import HVProtocol

/// A scripted host IP injection (`hvagent sim-host --ip-script`): SET_IP_INFO requests as Hyper-V
/// sends them (`Set-VMNetworkAdapterFailoverConfiguration`, a static IP pool) and GET_IP_INFO, the
/// way the host reads the result back, each outcome one JSON line. A test inside a real guest
/// (scripts/vm/guest-checks.sh) then compares what the host was told with what the guest's network
/// manager and kernel show.
///
/// A script is JSON lines, one ``Step`` each:
///
///     {"label": "static", "set": {"adapter": "{…guid…}", "addresses": "192.0.2.10;2001:db8::10",
///      "subnets": "255.255.255.0;64", "gateways": "192.0.2.1", "dns": "192.0.2.53"}}
///     {"get": "52:54:00:12:34:56"}
///
/// The lists are the wire's ';'-separated text, sent as written and never parsed here: a bad
/// token must reach the guest as it is.
public struct IPInjectionScript: Sendable, Equatable {
    /// One `struct hv_kvp_ipaddr_value` as text: a SET_IP_INFO request, or what a GET_IP_INFO
    /// reply held.
    public struct Settings: Codable, Sendable, Equatable {
        /// The NIC's VMBus instance GUID (a SET, as Hyper-V sends it: braced, lower-case) or its
        /// MAC (a GET reply's adapter_id).
        public var adapter: String
        /// `addr_family` (bit 0 IPv4, bit 1 IPv6); in a request, when absent, the families the
        /// addresses have.
        public var family: UInt8?
        public var dhcp: Bool?
        public var addresses: String?
        public var subnets: String?
        public var gateways: String?
        public var dns: String?

        public init(adapter: String, family: UInt8? = nil, dhcp: Bool? = nil, addresses: String? = nil, subnets: String? = nil,
                    gateways: String? = nil, dns: String? = nil) {
            self.adapter = adapter
            self.family = family
            self.dhcp = dhcp
            self.addresses = addresses
            self.subnets = subnets
            self.gateways = gateways
            self.dns = dns
        }

        /// As the host read it.
        public init(_ info: KVPHostIPInfo) {
            self.init(adapter: info.adapterID, family: info.addressFamily, dhcp: info.dhcpEnabled, addresses: info.ipAddresses,
                      subnets: info.subnets, gateways: info.gateways, dns: info.dnsServers)
        }

        /// The host's message: `family` when given, else bit 0 for a dotted token and bit 1 for
        /// one with a ':' (the guest configures what the lists hold either way; PROTOCOL.md §7.19).
        public var hostIPInfo: KVPHostIPInfo {
            let list = addresses ?? ""
            let derived: UInt8 = (list.contains(".") ? 1 : 0) | (list.contains(":") ? 2 : 0)
            return KVPHostIPInfo(adapterID: adapter, addressFamily: family ?? derived, dhcpEnabled: dhcp ?? false,
                                 ipAddresses: list, subnets: subnets ?? "", gateways: gateways ?? "", dnsServers: dns ?? "")
        }
    }

    /// One request: exactly one of `set` (a SET_IP_INFO) and `get` (a GET_IP_INFO for that MAC,
    /// upper-case and ':'-separated as Hyper-V sends it).
    public struct Step: Codable, Sendable, Equatable {
        /// Echoed in the outcome, so a checker finds its step without counting lines.
        public var label: String?
        public var set: Settings?
        public var get: String?

        public init(label: String? = nil, set: Settings? = nil, get: String? = nil) {
            self.label = label
            self.set = set
            self.get = get
        }
    }

    /// What one step got back.
    public struct Outcome: Codable, Sendable, Equatable {
        public var step: Int
        public var label: String?
        /// `set` or `get`.
        public var op: String
        /// The adapter GUID (`set`) or MAC (`get`) the request named.
        public var adapter: String
        /// The guest's status by name (`HV_S_OK`, `HV_E_FAIL`, …; `HResult.description`), `no reply`,
        /// or `not sent: …` when the request does not fit the wire's fields.
        public var status: String
        /// Request to reply: for SET_IP_INFO, how long the guest took to apply and verify.
        public var seconds: Double?
        /// What a GET_IP_INFO reply held.
        public var reply: Settings?

        public init(step: Int, label: String?, op: String, adapter: String, status: String, seconds: Double? = nil,
                    reply: Settings? = nil) {
            self.step = step
            self.label = label
            self.op = op
            self.adapter = adapter
            self.status = status
            self.seconds = seconds
            self.reply = reply
        }
    }

    public var steps: [Step]

    public init(steps: [Step]) {
        self.steps = steps
    }

    /// Parses JSON lines (blank lines and lines starting with `#` are skipped); a step that is not
    /// exactly one of `set` and `get` is an error naming its line.
    public init(jsonLines text: String) throws {
        let decoder = JSONDecoder()
        var steps: [Step] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let first = line.first(where: { $0 != " " && $0 != "\t" && $0 != "\r" }), first != "#" else { continue }
            let step: Step
            do {
                step = try decoder.decode(Step.self, from: Data(line.utf8))
            } catch {
                throw IPInjectionScriptError.badLine(number + 1, "\(error)")
            }
            guard (step.set == nil) != (step.get == nil) else {
                throw IPInjectionScriptError.badLine(number + 1, "a step has exactly one of \"set\" and \"get\"")
            }
            steps.append(step)
        }
        self.steps = steps
    }
}

public enum IPInjectionScriptError: Error, Hashable, Sendable {
    /// Line number (from 1) and why.
    case badLine(Int, String)
}

extension SimulatedHyperVHost {
    /// Runs `script` on the negotiated KVP channel, handing each outcome to `report` as it comes;
    /// the other services are served meanwhile (the host pumps every channel while it waits). A
    /// step without a reply (the guest died or hung) ends the script.
    public func runIPInjectionScript(_ script: IPInjectionScript, setTimeout: Double = 30, getTimeout: Double = 5,
                                     report: (IPInjectionScript.Outcome) -> Void) throws {
        for (index, step) in script.steps.enumerated() {
            let outcome = try ipScriptStep(step, index: index, setTimeout: setTimeout, getTimeout: getTimeout)
            report(outcome)
            if outcome.status == "no reply" { return }
        }
    }

    private func ipScriptStep(_ step: IPInjectionScript.Step, index: Int, setTimeout: Double, getTimeout: Double) throws
        -> IPInjectionScript.Outcome {
        let began = ContinuousClock.now
        var outcome = IPInjectionScript.Outcome(step: index, label: step.label, op: step.set != nil ? "set" : "get",
                                                adapter: step.set?.adapter ?? step.get ?? "", status: "")
        do {
            if let request = step.set {
                outcome.status = try kvpSetIPInfo(request.hostIPInfo, timeout: setTimeout).description
            } else if let mac = step.get {
                let reply = try kvpGetIPInfo(mac: mac, timeout: getTimeout)
                outcome.status = reply.status.description
                outcome.reply = reply.info.map(IPInjectionScript.Settings.init)
            }
        } catch let error as KVPHostError {
            switch error {
            case .noReply: outcome.status = "no reply"
            case .tooLong(let what): outcome.status = "not sent: \(what) is longer than its field"
            case .shortReply(let count): outcome.status = "short reply (\(count) bytes)"
            }
        }
        outcome.seconds = began.duration(to: .now).seconds
        return outcome
    }
}
