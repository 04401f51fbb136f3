import Foundation
import SystemBus

/// A private D-Bus bus for one test: Debian's `dbus-daemon` with a configuration that lets every
/// connection (of any user: a real systemd-networkd drops to its own) own any name and call
/// anything, on a socket in a temp directory — so tests talk to a real bus (which checks every
/// message it routes) without touching the machine's system bus.
public final class PrivateBus {
    public let socketPath: String
    private let directory: TempDir
    private let daemon: Process

    /// nil (with the reason printed) when `dbus-daemon` is not installed.
    public init?() throws {
        guard let binary = ["/usr/bin/dbus-daemon", "/bin/dbus-daemon"].first(where: FileManager.default.isExecutableFile) else {
            print("PrivateBus: skipped: dbus-daemon is not installed (scripts/setup.sh installs it)")
            return nil
        }
        directory = TempDir()
        socketPath = directory.path + "/bus"
        let config = directory.path + "/bus.conf"
        try """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>unix:path=\(socketPath)</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
            <allow receive_sender="*"/>
            <allow own="*"/>
            <allow user="*"/>
          </policy>
        </busconfig>
        """.write(toFile: config, atomically: true, encoding: .utf8)
        daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: binary)
        daemon.arguments = ["--config-file=\(config)", "--nofork", "--nopidfile", "--nosyslog"]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice // "Failed to set fd limit" as non-root-of-init
        try daemon.run()
        // Ready when it accepts a connection (the socket file appears at bind(), before listen()).
        let deadline = Date().addingTimeInterval(10)
        while (try? DBusConnection(path: socketPath, timeout: .seconds(1))) == nil && Date() < deadline { usleep(10_000) }
    }

    deinit {
        // SIGKILL, not terminate(): the test process may have SIGTERM blocked (the agent's signalfd),
        // and a child started by posix_spawn inherits that mask.
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        unlink(socketPath)
        unlink(directory.path + "/bus.conf")
    }
}
