/// Where an event came from, so that an alert can point the analyst back at the evidence:
/// a file and line for batch analysis, an event id for events the server stored.
public enum EventRef: Hashable, Sendable, CustomStringConvertible {
    /// Line `line` (1-based) of input number `source` (an index into the analysis' input names).
    case line(source: Int32, line: Int64)
    /// A stored event's id (UUIDv7 for SecMon's own events).
    case id(String)

    public var description: String {
        switch self {
        case .line(let source, let line): return "#\(source):\(line)"
        case .id(let id): return id
        }
    }
}
