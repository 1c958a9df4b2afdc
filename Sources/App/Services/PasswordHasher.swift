import Foundation
import NIOPosix
import Synchronization
import Vapor

/// bcrypt hashing and verification on a small dedicated thread pool, never on the event loop.
///
/// At most `threads` hashes run at once and at most `queueLimit` wait; beyond that `verify`
/// and `hash` throw `PasswordHasher.Busy` at once (the login page answers 429), so a flood of
/// login attempts costs the server a bounded share of its CPU and cannot starve other routes.
/// `reserved` of those places are kept for checks marked `reserved` (clients with a valid device
/// cookie): a flood from unknown clients fills the others only.
public final class PasswordHasher: Sendable {
    /// Too many hashes are already running or waiting.
    public struct Busy: Error {}

    /// bcrypt cost.
    public let cost: Int
    private let pool: NIOThreadPool
    private let queueLimit: Int
    private let threads: Int
    private let reserved: Int
    private let admitted = Mutex(0)
    /// Hash compared against when the user does not exist, so that the answer takes as long as for a real user.
    private let decoy = Mutex<String?>(nil)

    public init(cost: Int, threads: Int, queueLimit: Int, reserved: Int = 0) {
        self.cost = cost
        self.threads = max(1, threads)
        self.queueLimit = max(0, queueLimit)
        self.reserved = min(max(0, reserved), self.threads + self.queueLimit - 1)
        self.pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
        ThreadPriority.lower(pool, threads: self.threads, nice: 19)
    }


    /// Hashes `password` (bcrypt, this hasher's cost).
    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await run { try Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`. With `hash == nil` (no such user) it spends the same time
    /// on a decoy hash and returns false.
    public func verify(_ password: String, against hash: String?, reserved: Bool = false) async throws -> Bool {
        let target: String
        if let hash {
            target = hash
        } else if let existing = decoy.withLock({ $0 }) {
            target = existing
        } else {
            let made = try await self.hash(UUID().uuidString)
            decoy.withLock { $0 = made }
            target = made
        }
        let matches = try await run(reserved: reserved) { (try? Bcrypt.verify(password, created: target)) ?? false }
        return hash != nil && matches
    }

    /// Stops the threads.
    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    private func run<T: Sendable>(reserved: Bool = false, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let limit = threads + queueLimit - (reserved ? 0 : self.reserved)
        let ok = admitted.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard ok else { throw Busy() }
        defer { admitted.withLock { $0 -= 1 } }
        return try await pool.runIfActive(work)
    }
}
