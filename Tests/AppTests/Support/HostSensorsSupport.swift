@testable import App
import Foundation
import HostSensors
import Testing

/// The host sensors as the tests run them: fast readings, and a wait for the first one.
enum HostSensorsSupport {
    static func configuration(interval: Duration = .seconds(1)) -> HostMonitor.Configuration {
        var configuration = HostMonitor.Configuration()
        configuration.systemInterval = interval
        configuration.networkInterval = interval
        configuration.processPollInterval = .seconds(1)
        return configuration
    }

    /// Waits (up to 10 s) until the sensors have taken their first reading.
    static func waitForFirstReading(_ h: SecMonHarness) async throws {
        let deadline = Date().addingTimeInterval(10)
        while h.app.secmon.host?.monitor.latest == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(h.app.secmon.host?.monitor.latest != nil, "the host sensors took no reading in 10 s")
    }
}
