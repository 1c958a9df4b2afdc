import ActiveResponse
import Foundation
import SecurityModel
import Synchronization

/// Login protection, decided before any password is hashed (``LoginThrottle``): failures per
/// source and per (user, source) earn growing delays; a client that logged in before presents a
/// signed device cookie and is throttled only by its own failures (OWASP's device cookies), and
/// its password checks may use the hashing slots kept for such clients.
///
/// The device cookie holds the user name, a random id and the time it was issued, signed with the
/// key every node shares (``CursorCodec``); it is valid for one user for a year.
final class LoginGuard: Sendable {
    static let cookieName = "secmon_device"
    static let cookieDays = 365

    private let throttle: Mutex<LoginThrottle>
    private let signer: CursorCodec
    private let throttledCount = Atomic<Int>(0)
    private let clock: @Sendable () -> Int64

    init(signer: CursorCodec, unitSeconds: Int = 1, clock: (@Sendable () -> Int64)? = nil) {
        self.signer = signer
        self.throttle = Mutex(LoginThrottle(unitSeconds: unitSeconds))
        self.clock = clock ?? { Timestamp.now().microseconds }
    }

    /// Now, in microseconds since 1970, by the clock throttling reads.
    func now() -> Int64 { clock() }

    /// The id of a valid device cookie issued to `user`, if `cookie` is one.
    func device(cookie: String?, user: String, now: Int64) -> String? {
        guard let cookie, cookie.utf8.count <= 512, let parts = try? signer.decode(cookie, kind: "device", count: 3),
              parts[0] == user, let issued = Int64(parts[2]) else { return nil }
        let age = now / 1_000_000 - issued
        guard age >= 0, age <= Int64(Self.cookieDays) * 86_400 else { return nil }
        return parts[1]
    }

    /// A new device cookie value for `user`.
    func cookie(for user: String, now: Int64) -> String {
        signer.encode(kind: "device", [user, SessionToken.random(), String(now / 1_000_000)])
    }

    func decide(user: String, source: String, device: String?, now: Int64) -> LoginThrottle.Decision {
        let decision = throttle.withLock { $0.decide(user: user, source: source, device: device, now: now) }
        if decision != .allow { throttledCount.add(1, ordering: .relaxed) }
        return decision
    }

    func failure(user: String, source: String, device: String?, now: Int64) {
        throttle.withLock { $0.failure(user: user, source: source, device: device, now: now) }
    }

    func success(user: String, source: String, device: String?) {
        throttle.withLock { $0.success(user: user, source: source, device: device) }
    }

    /// Attempts refused without a password check since start.
    var throttled: Int { throttledCount.load(ordering: .relaxed) }
    /// Keys tracked, and keys dropped while the tables were full.
    var tracked: (count: Int, evicted: Int) { throttle.withLock { ($0.count, $0.evicted) } }
}
