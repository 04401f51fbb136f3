import FoundationEssentials
import HostSimulator
import Testing

/// `sim-host --ip-script`: what a script line means, and what an outcome line looks like to the
/// checker that reads it (scripts/vm/guest-checks.sh parses these lines with Python's json).
@Suite struct IPInjectionScriptTests {
    static let guid = "{f8615163-df3e-46c5-913f-f2d2f965ed0e}"

    @Test func parsesSetAndGetStepsSkippingCommentsAndBlankLines() throws {
        let script = try IPInjectionScript(jsonLines: """
            # the host's configuration, then it reads it back

            {"label": "static", "set": {"adapter": "\(Self.guid)", "addresses": "192.0.2.10;2001:db8::10", "subnets": "255.255.255.0;64", "gateways": "192.0.2.1", "dns": "192.0.2.53"}}
              {"get": "52:54:00:12:34:56"}
            {"set": {"adapter": "\(Self.guid)", "dhcp": true, "family": 1}}
            """)
        #expect(script.steps == [
            .init(label: "static", set: .init(adapter: Self.guid, addresses: "192.0.2.10;2001:db8::10", subnets: "255.255.255.0;64",
                                              gateways: "192.0.2.1", dns: "192.0.2.53")),
            .init(get: "52:54:00:12:34:56"),
            .init(set: .init(adapter: Self.guid, family: 1, dhcp: true)),
        ])
    }

    @Test func aStepIsExactlyOneOfSetAndGet() {
        for (line, number) in [("{\"label\": \"nothing\"}", 2), ("{\"get\": \"x\", \"set\": {\"adapter\": \"a\"}}", 2)] {
            do {
                _ = try IPInjectionScript(jsonLines: "{\"get\": \"a\"}\n" + line)
                Issue.record("\(line) parsed")
            } catch let IPInjectionScriptError.badLine(n, _) {
                #expect(n == number)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        // Not JSON, or a set without its adapter: the line is named too.
        for bad in ["{\"set\": {\"addresses\": \"192.0.2.1\"}}", "set 192.0.2.1", "{\"get\": 5}"] {
            do {
                _ = try IPInjectionScript(jsonLines: bad)
                Issue.record("\(bad) parsed")
            } catch let IPInjectionScriptError.badLine(n, _) {
                #expect(n == 1)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    /// The lists go out as written (a bad token must reach the guest); the family, when the script
    /// gives none, is the address families the list holds.
    @Test func requestBecomesTheHostsMessageUnchanged() {
        let both = IPInjectionScript.Settings(adapter: Self.guid, addresses: "192.0.2.300;2001:db8::10", subnets: "255.255.255.0;64")
        #expect(both.hostIPInfo == KVPHostIPInfo(adapterID: Self.guid, addressFamily: 3, dhcpEnabled: false,
                                                 ipAddresses: "192.0.2.300;2001:db8::10", subnets: "255.255.255.0;64",
                                                 gateways: "", dnsServers: ""))
        #expect(IPInjectionScript.Settings(adapter: Self.guid, addresses: "2001:db8::10").hostIPInfo.addressFamily == 2)
        #expect(IPInjectionScript.Settings(adapter: Self.guid, dhcp: true).hostIPInfo.addressFamily == 0)
        #expect(IPInjectionScript.Settings(adapter: Self.guid, family: 1, addresses: "2001:db8::1").hostIPInfo.addressFamily == 1)
    }

    /// One outcome is one JSON object a shell checker can read: sorted keys, absent fields left out.
    @Test func outcomeLineHasTheStatusNameAndTheReadBackFields() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let set = IPInjectionScript.Outcome(step: 0, label: "static", op: "set", adapter: Self.guid, status: "HV_S_OK")
        #expect(String(decoding: try encoder.encode(set), as: UTF8.self)
            == #"{"adapter":"\#(Self.guid)","label":"static","op":"set","status":"HV_S_OK","step":0}"#)
        let read = KVPHostIPInfo(adapterID: "52:54:00:12:34:56", addressFamily: 3, dhcpEnabled: false, ipAddresses: "192.0.2.10;2001:db8::10",
                                 subnets: "255.255.255.0;/64", gateways: "192.0.2.1;", dnsServers: "")
        let get = IPInjectionScript.Outcome(step: 1, label: nil, op: "get", adapter: "52:54:00:12:34:56", status: "HV_S_OK",
                                            reply: .init(read))
        #expect(String(decoding: try encoder.encode(get), as: UTF8.self)
            == #"{"adapter":"52:54:00:12:34:56","op":"get","reply":{"adapter":"52:54:00:12:34:56","addresses":"192.0.2.10;2001:db8::10","dhcp":false,"dns":"","family":3,"gateways":"192.0.2.1;","subnets":"255.255.255.0;\/64"},"status":"HV_S_OK","step":1}"#)
        #expect(try JSONDecoder().decode(IPInjectionScript.Outcome.self, from: try encoder.encode(get)) == get)
    }
}
