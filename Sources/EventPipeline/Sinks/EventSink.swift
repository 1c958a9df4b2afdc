/// A consumer at the end of the pipeline: the alert store, and later incidents, the live feed,
/// response, notifications, SIEM export. One file each; the wiring adds it to a bus.
///
/// A sink is handed batches by its own worker (``AlertBus``), never on the request path and never
/// in the way of other sinks: a sink that fails has its batch retried with back-off, one that
/// hangs past its timeout counts as failed, and while it recovers its queue (bounded by bytes)
/// drops its oldest items, counted.
public protocol EventSink<Item>: Sendable {
    associatedtype Item: Sendable
    /// How health reports name it (`alert-store`).
    var name: String { get }
    /// Delivers one batch, in order. Throwing keeps the batch for a retry.
    func write(_ batch: [Item]) async throws
}

/// A producer at the start of the pipeline: hands ``SecurityEvent``s to an ``EventIntake``.
///
/// Push sources (the web app's activity) submit from their own threads and need no task of
/// their own; pulling sources (a tailed file, a replay, a host sensor) run until cancelled or
/// until their input ends.
public protocol EventSource: Sendable {
    /// How health reports name it (`activity`).
    var name: String { get }
    /// Whether the source hands events over in time order (its events are then stamped by the
    /// intake and need no lateness window); `false` for files and remote hosts.
    var isOrdered: Bool { get }
    /// Feeds `intake` until the input ends or the task is cancelled.
    func run(into intake: EventIntake) async throws
}
