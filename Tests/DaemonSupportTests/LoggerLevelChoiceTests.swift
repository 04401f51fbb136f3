import AgentConfig
import DaemonSupport
import Logging
import Testing

@Suite struct LoggerLevelChoiceTests {
    /// `[agent] log_level` words are swift-log's level names; each maps onto its own level.
    @Test(arguments: LogLevelChoice.allCases)
    func everyConfiguredLevelIsTheLevelOfTheSameName(choice: LogLevelChoice) {
        #expect(Logger.Level(choice).rawValue == choice.rawValue)
    }
}
