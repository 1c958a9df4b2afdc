import SecurityModel

/// What the baseline rules have learned, in a form that outlives the process: per rule (by label
/// and state fingerprint, so that a changed rule starts over), each group's history with its key
/// and values spelled out (symbols are per process). Open alerts are not part of it: like
/// correlations' windows, they close when the server stops.
public struct BaselineSnapshot: Codable, Sendable, Equatable {
    public var rules: [Rule] = []

    public init() {}

    /// One baseline rule's groups.
    public struct Rule: Codable, Sendable, Equatable {
        public var label: String
        public var fingerprint: UInt64
        public var regular: [RegularGroup] = []
        public var novel: [NovelGroup] = []
        public var rate: [RateGroup]? = nil
    }

    /// A rate group: its current bucket and count, and the counts before.
    public struct RateGroup: Codable, Sendable, Equatable {
        public var key: [StoredValue]
        public var bucket: Int64
        public var count: Int
        public var counts: [Int32]
        public var age: Int
        public var lastTime: Int64
        public var firstInBucket: Int64
    }

    /// A regularity group: its last time and recent gaps (oldest first).
    public struct RegularGroup: Codable, Sendable, Equatable {
        public var key: [StoredValue]
        public var lastTime: Int64
        public var gaps: [Int64]
        public var stretchStart: Int64
        public var stretchCount: Int
    }

    /// A first_seen group: when it was first and last seen, and its known values.
    public struct NovelGroup: Codable, Sendable, Equatable {
        public var key: [StoredValue]
        public var firstTime: Int64
        public var lastTime: Int64
        public var known: [KnownValue]
    }

    public struct KnownValue: Codable, Sendable, Equatable {
        public var value: StoredValue
        public var lastSeen: Int64
    }

    /// A field value as stored: exactly one of its members is set (a list keeps its elements).
    public struct StoredValue: Codable, Sendable, Equatable {
        public var s: String?
        public var i: Int64?
        public var d: Double?
        public var b: Bool?
        public var l: [StoredValue]?

        public init(_ value: FieldValue) {
            switch value {
            case .string(let text): s = text
            case .int(let number): i = number
            case .double(let number): d = number
            case .bool(let flag): b = flag
            case .null: break
            case .list(let elements): l = elements.map(StoredValue.init)
            }
        }

        public var value: FieldValue {
            if let s { return .string(s) }
            if let i { return .int(i) }
            if let d { return .double(d) }
            if let b { return .bool(b) }
            if let l { return .list(l.map(\.value)) }
            return .null
        }
    }

    /// Groups held, over all rules.
    public var groupCount: Int { rules.reduce(0) { $0 + $1.regular.count + $1.novel.count + ($1.rate?.count ?? 0) } }
}
