import Foundation
import Testing
import HVProtocol
import TestSupport
@testable import IPInjection

/// The apply / verify / roll back logic with a fake backend whose effect on a fake kernel state is
/// scripted, over a fake sysfs: nothing here touches the machine's network.
@Suite struct IPInjectorTests {
    static let guid = FakeAdapterSysfs.guid

    typealias FakeKernel = FakeIPKernel
    typealias FakeBackend = FakeIPBackend
    typealias Machine = FakeAdapterSysfs
    typealias Behaviour = FakeIPBackend.Behaviour

    let request = HostIPSettings(adapterID: IPInjectorTests.guid, addressFamily: 3, addresses: "10.1.2.3;2001:db8::3",
                                 subnets: "255.255.255.0;64", gateways: "10.1.2.1", dnsServers: "10.1.2.53")

    @Test func appliesVerifiesAndWritesTheCompatibilityFiles() throws {
        let m = try Machine(), kernel = FakeKernel(), backend = FakeBackend(kernel, .works)
        let outcome = m.injector(backend, kernel).set(request)
        #expect(outcome.status == .ok, "\(outcome.message)")
        #expect(outcome.message.contains("applied to eth0 by fake"))
        #expect(backend.applied.count == 1)
        #expect(backend.applied.first?.1 == InjectionInterface(name: "eth0", index: 2, mac: "00:15:5d:aa:bb:cc"))
        #expect(backend.undone == 0)
        let expected = try CompatibilityFiles(interface: "eth0", mac: "00:15:5d:aa:bb:cc", settings: request)
        #expect(m.file("ifcfg-eth0") == expected.ifcfg)
        #expect(m.file("eth0.nmconnection") == expected.keyfile)
        var st = stat()
        #expect(stat(m.files + "/ifcfg-eth0", &st) == 0 && st.st_mode & 0o777 == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: m.files).sorted() == ["eth0.nmconnection", "ifcfg-eth0"])
    }

    @Test func waitsForASlowBackendWithinTheBound() throws {
        let m = try Machine(), kernel = FakeKernel(), backend = FakeBackend(kernel, .worksAfter(.milliseconds(300)))
        let outcome = m.injector(backend, kernel).set(request)
        #expect(outcome.status == .ok, "\(outcome.message)")
        #expect(kernel.observations > 1)
    }

    @Test func rollsBackWhenTheKernelNeverShowsIt() throws {
        let m = try Machine(), kernel = FakeKernel()
        let before = ObservedIPState(addresses: [.init(address: try #require(IPLiteral("10.9.9.9")), prefixLength: 8)])
        for behaviour in [Behaviour.hasNoEffect, .dropsGateways] {
            kernel.current = before
            let backend = FakeBackend(kernel, behaviour)
            let clock = ContinuousClock(), start = clock.now
            let outcome = m.injector(backend, kernel, timeout: .milliseconds(400)).set(request)
            #expect(outcome.status == .fail)
            #expect(clock.now - start >= .milliseconds(400))
            #expect(backend.undone == 1)
            #expect(kernel.current == before)
            #expect(outcome.message.contains("previous configuration restored"), "\(outcome.message)")
            if case .dropsGateways = behaviour {
                #expect(outcome.message.contains("default route via 10.1.2.1"))
                #expect(!outcome.message.contains("address 10.1.2.3"))
            }
        }
    }

    /// A manager that restores asynchronously (NetworkManager reactivating the earlier profile):
    /// the host's HV_E_FAIL goes out once the kernel shows the previous addresses again, not while
    /// the interface has none.
    @Test func answersOnlyOnceThePreviousStateIsBack() throws {
        let m = try Machine(), kernel = FakeKernel()
        let before = ObservedIPState(addresses: [.init(address: try #require(IPLiteral("10.9.9.9")), prefixLength: 8)],
                                     defaultGateways: [try #require(IPLiteral("10.0.0.1"))])
        kernel.current = before
        let backend = FakeBackend(kernel, .failsActivation(restoreAfter: .milliseconds(500)))
        let outcome = m.injector(backend, kernel, timeout: .milliseconds(200)).set(request)
        #expect(outcome.status == .fail)
        #expect(kernel.current == before, "answered before the previous configuration was back")
        #expect(outcome.message.contains("previous configuration restored"), "\(outcome.message)")
    }

    /// The restore wait is bounded, and the log line says what did not come back.
    @Test func restoreWaitIsBoundedAndSaysWhatIsMissing() throws {
        let m = try Machine(), kernel = FakeKernel()
        kernel.current = ObservedIPState(addresses: [.init(address: try #require(IPLiteral("10.9.9.9")), prefixLength: 8)])
        let backend = FakeBackend(kernel, .failsActivation(restoreAfter: nil))
        let clock = ContinuousClock(), start = clock.now
        let outcome = m.injector(backend, kernel, timeout: .milliseconds(200), restoreTimeout: .milliseconds(300)).set(request)
        let took = clock.now - start
        #expect(outcome.status == .fail)
        #expect(took >= .milliseconds(500) && took < .seconds(3), "\(took)")
        #expect(outcome.message.contains("put back, but address 10.9.9.9/8 not shown again"), "\(outcome.message)")
    }

    @Test func backendRefusalIsHVEFail() throws {
        let m = try Machine(), kernel = FakeKernel(), backend = FakeBackend(kernel, .refuses)
        let outcome = m.injector(backend, kernel).set(request)
        #expect(outcome.status == .fail)
        #expect(outcome.message.contains("fake backend refused"))
        #expect(backend.undone == 0)
    }

    @Test func unknownAdapterIsGUIDNotFoundAndTouchesNothing() throws {
        let m = try Machine(), kernel = FakeKernel(), backend = FakeBackend(kernel, .works)
        var other = request
        other.adapterID = IPInjectorTests.guid.uppercased()   // exact match only, as upstream
        let outcome = m.injector(backend, kernel).set(other)
        #expect(outcome.status == .guidNotFound)
        #expect(backend.applied.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: m.files).isEmpty)
    }

    @Test func invalidRequestsAreHVInvalidArgAndTouchNothing() throws {
        let m = try Machine(), kernel = FakeKernel(), backend = FakeBackend(kernel, .works)
        // Files from an earlier, good request stay as they were.
        #expect(m.injector(backend, kernel).set(request).status == .ok)
        let ifcfg = m.file("ifcfg-eth0")
        for bad in [HostIPSettings(adapterID: Self.guid, addresses: "10.1.2.300", subnets: "255.255.255.0"),
                    HostIPSettings(adapterID: Self.guid, addresses: "10.1.2.3", subnets: "255.0.255.0"),
                    HostIPSettings(adapterID: Self.guid, addresses: "10.1.2.3;10.1.2.4", subnets: "255.255.255.0"),
                    HostIPSettings(adapterID: Self.guid, gateways: "router"),
                    HostIPSettings(adapterID: Self.guid, dnsServers: "10.1.2.53;::1%lo")] {
            let outcome = m.injector(backend, kernel).set(bad)
            #expect(outcome.status == .invalidArgument, "\(bad): \(outcome.message)")
        }
        #expect(backend.applied.count == 1)
        #expect(m.file("ifcfg-eth0") == ifcfg)
    }

    @Test func unwritableFilesDirectoryIsHVEFailBeforeTheBackendRuns() throws {
        let m = try Machine(), kernel = FakeKernel(), backend = FakeBackend(kernel, .works)
        let injector = IPInjector(backend: backend, probe: kernel, locator: InterfaceLocator(root: m.sysfs),
                                  policy: .init(compatibilityDirectory: m.root + "/missing"))
        let outcome = injector.set(request)
        #expect(outcome.status == .fail)
        #expect(outcome.message.contains("compatibility files"))
        #expect(backend.applied.isEmpty)
    }
}
