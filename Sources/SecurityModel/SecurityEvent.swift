/// One security-relevant event, from any source, as the pipeline carries it.
///
/// Source-neutral: a source fills in the time, its stream, the fields under the names its rules
/// use, and the entities the event is about, without knowing the loaded rule set. The detection
/// stage projects it to the engine's compact ``EventRecord`` (only the fields the rules read).
public struct SecurityEvent: Sendable, Hashable {
    /// When it happened (UTC). An ordered source stamps it when the event enters the pipeline.
    public var time: Timestamp
    /// Its id: what an alert's evidence names, and what opens the event in the console.
    public var id: String
    /// The stream it belongs to (selects the rules that apply).
    public var source: LogSource
    /// The named fields, in the source's order (names as the rules use them).
    public var fields: [Field]
    /// What the event is about.
    public var entities: [Entity]
    /// The raw line, for keyword rules; empty when there is none.
    public var raw: String

    /// One named value.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: FieldValue
        public init(_ name: String, _ value: FieldValue) {
            self.name = name
            self.value = value
        }
    }

    public init(time: Timestamp, id: String, source: LogSource, fields: [Field], entities: [Entity] = [], raw: String = "") {
        self.time = time
        self.id = id
        self.source = source
        self.fields = fields
        self.entities = entities
        self.raw = raw
    }

    /// The value of the field called `name`, if present.
    public subscript(name: String) -> FieldValue? {
        fields.first { $0.name == name }?.value
    }

    /// About how many bytes the event holds in memory: what bounded buffers count against their budget.
    public var estimatedBytes: Int {
        var total = 128 + id.utf8.count + raw.utf8.count
        for field in fields { total &+= 32 &+ field.name.utf8.count &+ field.value.estimatedBytes }
        for entity in entities { total &+= 24 &+ entity.value.utf8.count }
        return total
    }
}

extension FieldValue {
    /// About how many bytes the value holds in memory.
    public var estimatedBytes: Int {
        switch self {
        case .string(let text): return 16 &+ text.utf8.count
        case .list(let values): return values.reduce(16) { $0 &+ $1.estimatedBytes }
        default: return 16
        }
    }
}
