import SecurityModel

/// A compiled Sigma `condition`: boolean logic over search identifiers (by index).
indirect enum ConditionExpression: Sendable, Equatable {
    case search(Int)
    case and([ConditionExpression])
    case or([ConditionExpression])
    case not(ConditionExpression)
    case constant(Bool)

    func evaluate(_ searches: [SearchIdentifier], _ event: EventRecord) -> Bool {
        switch self {
        case .search(let index): return searches[index].matches(event)
        case .and(let parts):
            for part in parts where !part.evaluate(searches, event) { return false }
            return true
        case .or(let parts):
            for part in parts where part.evaluate(searches, event) { return true }
            return false
        case .not(let inner): return !inner.evaluate(searches, event)
        case .constant(let value): return value
        }
    }

    /// A (slot, values) that every matching event must have, used to index rules; nil when none.
    func requirement(_ searches: [SearchIdentifier]) -> Requirement? {
        switch self {
        case .search(let index): return searches[index].requirement
        case .and(let parts):
            guard let best = parts.compactMap({ $0.requirement(searches) }).min(by: { $0.values.count < $1.values.count }) else { return nil }
            return Requirement(slot: best.slot, values: best.values, written: best.written, exhaustive: false)
        case .or(let parts):
            var result: Requirement?
            for part in parts {
                guard let req = part.requirement(searches) else { return nil }
                if let current = result {
                    guard current.slot == req.slot else { return nil }
                    result = Requirement(slot: current.slot, values: current.values.union(req.values),
                                         written: current.written.union(req.written), exhaustive: current.exhaustive && req.exhaustive)
                } else { result = req }
            }
            return result
        case .not, .constant: return nil
        }
    }
}
