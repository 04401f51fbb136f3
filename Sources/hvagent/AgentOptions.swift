import AgentCore
import ArgumentParser
import FoundationEssentials
import ShutdownSvc
import Timesync

extension TimesyncMode: ExpressibleByArgument {}

/// The default time mode: feed chronyd when it is installed, else discipline the clock.
enum DefaultTimesyncMode {
    static var detected: TimesyncMode {
        ["/usr/sbin/chronyd", "/usr/bin/chronyd", "/sbin/chronyd"].contains { FileManager.default.isExecutableFile(atPath: $0) }
            ? .chrony : .discipline
    }
}
