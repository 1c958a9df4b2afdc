import SecurityModel
import Synchronization

/// A clock that stands still until the test moves it: login throttling's windows then hold
/// however slowly a loaded machine serves the requests.
final class ManualClock: Sendable {
    private let micros = Mutex(Timestamp.now().microseconds)

    func now() -> Int64 { micros.withLock { $0 } }

    func advance(seconds: Int) { micros.withLock { $0 += Int64(seconds) * 1_000_000 } }

    /// The clock as `SecMonConfig.loginClock` takes it.
    var source: @Sendable () -> Int64 { { [self] in now() } }
}
