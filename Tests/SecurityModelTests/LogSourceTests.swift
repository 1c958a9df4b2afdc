import SecurityModel
import Testing

/// `LogSource` values share their attributes between copies (so that comparing an event's stream
/// with the last one is a pointer comparison); values made apart must still compare and hash by
/// their attributes.
@Suite("Log sources")
struct LogSourceTests {
    @Test("equal by attributes, case-insensitively, whether made apart or copied")
    func equality() {
        let made = LogSource(category: "Application", product: "SecMon", service: "activity")
        let copy = made
        #expect(made == copy)
        #expect(made == LogSource.activity)
        #expect(made.hashValue == LogSource.activity.hashValue)
        #expect(Set([made, copy, LogSource.activity, LogSource(category: "application", product: "secmon", service: "activity")]).count == 1)
        #expect(LogSource(product: "linux", service: "sshd") != LogSource(product: "linux", service: "syslog"))
        #expect(LogSource(product: "linux") != LogSource(product: "linux", service: "sshd"))
        #expect(LogSource() == LogSource.json)
        #expect(LogSource() != LogSource(category: "webserver"))
        #expect(made.category == "application" && made.product == "secmon" && made.service == "activity")
    }

    @Test("a rule's logsource applies to the streams that have every attribute it states")
    func applies() {
        #expect(LogSource(product: "linux").applies(to: .sshd))
        #expect(LogSource(product: "linux").applies(to: .syslog))
        #expect(!LogSource(product: "linux", service: "sshd").applies(to: .syslog))
        #expect(!LogSource(product: "linux").applies(to: .webserver))
        #expect(LogSource().applies(to: .activity))
        #expect(LogSource(category: "webserver").applies(to: .webserver))
    }
}
