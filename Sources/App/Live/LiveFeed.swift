import Foundation
import Logging
import NIOCore
import SecurityModel
import ServiceLifecycle
import Synchronization
import Vapor

/// The console's live feed: events, alerts, incident changes, responses and the pipeline's
/// counters, pushed to the browsers' WebSockets as they happen.
///
/// Publishing never waits and never fails: a message is encoded once and handed to each client
/// allowed to see it (by role). Each client has a budget of bytes written but not yet taken by
/// the network; a browser that stops reading exhausts it, is told why and dropped, and counted
/// (`droppedSlow`); it reconnects when it can. Connections are capped per user and in all; the
/// feed accepts no messages from clients (one is a policy violation, closed and counted). Events
/// are sampled (at most `eventsPerSecond`, the rest counted) so a flood costs the feed little.
public final class LiveFeed: Service, Sendable {
    /// How much the feed may hold and send.
    public struct Limits: Sendable {
        public var perUser = 4
        public var total = 256
        /// Bytes sent to one client and not yet written to its socket.
        public var maxPendingBytes = 512 * 1024
        /// Events forwarded per second, at most (alerts, incidents and responses are never sampled).
        public var eventsPerSecond = 20
        /// How often the counters are sent, in seconds.
        public var statsSeconds = 2.0
        public init() {}
    }

    /// Why a connection was refused or closed.
    public enum Refusal: Error, CustomStringConvertible {
        case userCap(Int), totalCap(Int)
        public var description: String {
            switch self {
            case .userCap(let n): "you already have \(n) live connections open (close a tab)"
            case .totalCap(let n): "the server has its maximum of \(n) live connections"
            }
        }
    }

    /// The feed's counters.
    public struct Statistics: Sendable, Equatable {
        public var connected = 0
        public var accepted = 0
        public var refused = 0
        public var droppedSlow = 0
        public var refusedMessages = 0
        public var messagesSent = 0
        public var eventsSkipped = 0
    }

    struct Client {
        let user: String
        let role: Role
        var socket: WebSocket?
        var pendingBytes = 0
        let reserved: ContinuousClock.Instant
    }

    struct State {
        var lastEvents: (at: ContinuousClock.Instant, count: Int)?
        var eventsPerSecond: Double = 0
        var clients: [Int: Client] = [:]
        var nextID = 1
        var stats = Statistics()
        var eventTokens: Double = 0
        var eventTokensAt: ContinuousClock.Instant = .now
    }

    public let limits: Limits
    private let state = Mutex(State())
    private let logger: Logger
    /// The pipeline's counters, for the periodic `stats` message.
    private let snapshot: @Sendable () -> LiveStats?

    init(limits: Limits = Limits(), logger: Logger, snapshot: @escaping @Sendable () -> LiveStats? = { nil }) {
        self.limits = limits
        self.logger = logger
        self.snapshot = snapshot
    }

    public var statistics: Statistics {
        state.withLock { state in
            var stats = state.stats
            stats.connected = state.clients.values.filter { $0.socket != nil }.count
            return stats
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Events recorded per second, over the last stats interval.
    public var eventsPerSecond: Double { state.withLock { $0.eventsPerSecond } }

    /// Reserves a place for `user`, before the upgrade; refused past the caps.
    func reserve(user: String, role: Role) throws(Refusal) -> Int {
        let result = state.withLock { state -> Result<Int, Refusal> in
            if state.clients.count >= limits.total { state.stats.refused &+= 1; return .failure(.totalCap(limits.total)) }
            if state.clients.values.filter({ $0.user == user }).count >= limits.perUser {
                state.stats.refused &+= 1
                return .failure(.userCap(limits.perUser))
            }
            let id = state.nextID
            state.nextID &+= 1
            state.clients[id] = Client(user: user, role: role, socket: nil, reserved: .now)
            return .success(id)
        }
        return try result.get()
    }

    /// Attaches the upgraded socket of reservation `id`.
    func attach(_ id: Int, socket: WebSocket) {
        let known = state.withLock { state -> Bool in
            guard state.clients[id] != nil else { return false }
            state.clients[id]?.socket = socket
            state.stats.accepted &+= 1
            return true
        }
        guard known else { socket.close(code: .goingAway, promise: nil); return }
        socket.pingInterval = .seconds(20)
        socket.onText { [weak self] socket, _ in
            self?.state.withLock { $0.stats.refusedMessages &+= 1 }
            self?.refuse(id, socket: socket)
        }
        socket.onBinary { [weak self] socket, _ in
            self?.state.withLock { $0.stats.refusedMessages &+= 1 }
            self?.refuse(id, socket: socket)
        }
        socket.onClose.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.clients.removeValue(forKey: id) }
        }
        send(LiveMessage(type: "hello", data: ["user": .string(state.withLock { $0.clients[id]?.user } ?? "")]).json(), to: [(id, socket)])
    }

    /// Sends `message` to every client whose role includes `audience`.
    func publish(_ message: LiveMessage, audience: Role = .viewer) {
        let text = message.json()
        let targets = state.withLock { state in
            state.clients.compactMap { id, client -> (Int, WebSocket)? in
                guard let socket = client.socket, client.role.includes(audience) else { return nil }
                return (id, socket)
            }
        }
        send(text, to: targets)
    }

    /// Forwards an event to analysts, sampled: at most `eventsPerSecond`.
    func publish(event: ActivityEvent) {
        let admitted = state.withLock { state -> Bool in
            guard state.clients.values.contains(where: { $0.socket != nil && $0.role.includes(.analyst) }) else { return false }
            let now = ContinuousClock.now
            let elapsed = Self.seconds(now - state.eventTokensAt)
            state.eventTokensAt = now
            let rate = Double(limits.eventsPerSecond)
            state.eventTokens = min(rate, state.eventTokens + elapsed * rate)
            guard state.eventTokens >= 1 else { state.stats.eventsSkipped &+= 1; return false }
            state.eventTokens -= 1
            return true
        }
        guard admitted else { return }
        publish(LiveMessage(type: "event", data: [
            "time": .string(event.timestamp.iso8601), "action": .string(event.action.rawValue), "user": .string(event.username),
            "ip": .string(event.ipAddress), "request": .string("\(event.method ?? "") \(event.path ?? "")"),
            "status": event.status.map { .int($0) } ?? .null,
        ]), audience: .analyst)
    }

    private func send(_ text: String, to targets: [(Int, WebSocket)]) {
        let size = text.utf8.count
        for (id, socket) in targets {
            let admitted = state.withLock { state -> Bool in
                guard var client = state.clients[id] else { return false }
                if client.pendingBytes &+ size > limits.maxPendingBytes {
                    state.stats.droppedSlow &+= 1
                    state.clients[id] = nil
                    return false
                }
                client.pendingBytes &+= size
                state.clients[id] = client
                state.stats.messagesSent &+= 1
                return true
            }
            guard admitted else {
                if !socket.isClosed {
                    logger.notice("live client dropped: it does not read its messages", metadata: ["client": "\(id)"])
                    // 4000: too slow (its reason cannot reach a client that does not read).
                    socket.close(code: .unknown(4000), promise: nil)
                }
                continue
            }
            let promise = socket.eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { [weak self] _ in
                self?.state.withLock { state in state.clients[id]?.pendingBytes &-= size }
            }
            socket.send(text, promise: promise)
        }
    }

    /// A client sent a message: the feed takes none. It is told why and closed (1008).
    private func refuse(_ id: Int, socket: WebSocket) {
        _ = state.withLock { $0.clients.removeValue(forKey: id) }
        socket.send(LiveMessage(type: "closing", data: ["reason": .string("this feed accepts no messages")]).json())
        socket.close(code: .policyViolation, promise: nil)
    }

    /// Sends the counters every `statsSeconds`, and forgets reservations whose upgrade never came.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(Int(self.limits.statsSeconds * 1000)))
                self.state.withLock { state in
                    let stale = state.clients.filter { $0.value.socket == nil && ContinuousClock.now - $0.value.reserved > .seconds(10) }
                    for id in stale.keys { state.clients[id] = nil }
                }
                if let stats = self.snapshot() {
                    let rate = self.state.withLock { state -> Double in
                        let now = ContinuousClock.now
                        if let last = state.lastEvents {
                            let seconds = Self.seconds(now - last.at)
                            if seconds > 0 { state.eventsPerSecond = Double(max(0, stats.events - last.count)) / seconds }
                        }
                        state.lastEvents = (now, stats.events)
                        return state.eventsPerSecond
                    }
                    var fields = stats.fields(feed: self.statistics)
                    fields["events_per_second"] = .double((rate * 10).rounded() / 10)
                    self.publish(LiveMessage(type: "stats", data: fields))
                }
            }
        }
        closeAll()
    }

    /// Closes every connection (1001, going away): at shutdown, before the HTTP server stops.
    public func closeAll() {
        let sockets = state.withLock { state in
            defer { state.clients.removeAll() }
            return state.clients.values.compactMap(\.socket)
        }
        for socket in sockets { socket.close(code: .goingAway, promise: nil) }
    }
}
