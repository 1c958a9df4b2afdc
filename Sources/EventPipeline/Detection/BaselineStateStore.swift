import DetectionEngine

/// Where the detection stage keeps what baseline rules learned, so that a restart does not start
/// every group's history over (a first_seen rule learns for days).
public protocol BaselineStateStore: Sendable {
    /// The last saved state, if any.
    func load() async throws -> BaselineSnapshot?
    /// Replaces the saved state.
    func save(_ snapshot: BaselineSnapshot) async throws
}
