import Foundation
import SecurityModel

/// A compiled test of one field's value: what a `field|modifiers: values` entry of a Sigma
/// detection becomes. Evaluation is allocation-free for ASCII text.
indirect enum ValueTest: @unchecked Sendable {
    /// Text comparison (the value's text form, numbers included).
    case text(TextPattern)
    /// A YAML integer: equal as a number (`404` matches `404`, `404.0` and `"404"`).
    case integer(Int64, TextPattern)
    /// `null`: the field is absent or null.
    case null
    /// `re`: the regular expression finds a match in the value's text.
    case regex(NSRegularExpression, source: String)
    /// `cidr`: the value is an IP address inside the network.
    case cidr(CIDRBlock)
    /// `lt`, `lte`, `gt`, `gte`: numeric comparison (non-numeric values never match).
    case compare(ComparisonOperator, Double)
    /// `exists`: presence (a null counts as present).
    case exists(Bool)
    /// `fieldref`: the value equals (or contains, starts or ends with) another field's value.
    case fieldRef(slot: Int, shape: TextPattern.Shape, cased: Bool)
    /// Any of several text patterns (the common `field|contains: [a, b, c]`): the value's bytes are
    /// prepared once for all of them, and `contains` literals are found in one pass.
    case anyText(TextPatternSet)
    case anyOf([ValueTest])
    case allOf([ValueTest])
    case not(ValueTest)

    func collectSlots(into slots: inout Set<Int>) {
        switch self {
        case .fieldRef(let slot, _, _): slots.insert(slot)
        case .anyOf(let tests), .allOf(let tests): for test in tests { test.collectSlots(into: &slots) }
        case .not(let test): test.collectSlots(into: &slots)
        default: break
        }
    }

    /// Evaluates against the field's value (`nil` when absent) within `event` (for `fieldref`).
    func matches(_ value: FieldValue?, in event: EventRecord) -> Bool {
        switch self {
        case .null:
            if let value { if case .null = value { return true }; return false }
            return true
        case .exists(let wanted):
            return (value != nil) == wanted
        case .anyOf(let tests):
            for test in tests where test.matches(value, in: event) { return true }
            return false
        case .anyText(let set):
            guard let value else { return false }
            if case .list(let elements) = value {
                return elements.contains { ValueTest.anyText(set).matches($0, in: event) }
            }
            guard let text = value.text else { return false }
            return set.matches(text)
        case .allOf(let tests):
            for test in tests where !test.matches(value, in: event) { return false }
            return true
        case .not(let test):
            guard value != nil else { return false }
            return !test.matches(value, in: event)
        default:
            guard let value else { return false }
            if case .list(let elements) = value {
                return elements.contains { scalarMatches($0, in: event) }
            }
            return scalarMatches(value, in: event)
        }
    }

    private func scalarMatches(_ value: FieldValue, in event: EventRecord) -> Bool {
        switch self {
        case .text(let pattern):
            switch value {
            case .string(let text): return pattern.matches(text)
            case .null: return false
            default: return value.text.map(pattern.matches) ?? false
            }
        case .integer(let expected, let pattern):
            switch value {
            case .int(let actual): return actual == expected
            case .double(let actual): return actual == Double(expected)
            case .string(let text): return pattern.matches(text)
            default: return false
            }
        case .regex(let regex, _):
            guard let text = value.text else { return false }
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        case .cidr(let block):
            guard let text = value.text, let address = IPAddress(text) else { return false }
            return block.contains(address)
        case .compare(let op, let bound):
            guard let number = value.number else { return false }
            return op.holds(number, bound)
        case .fieldRef(let slot, let shape, let cased):
            guard let other = event[slot]?.text, let mine = value.text else { return false }
            let a = cased ? mine : mine.lowercased(), b = cased ? other : other.lowercased()
            switch shape {
            case .equals, .wildcard: return a == b
            case .prefix: return a.hasPrefix(b)
            case .suffix: return a.hasSuffix(b)
            case .contains: return b.isEmpty || a.contains(b)
            }
        case .null, .exists, .anyOf, .allOf, .not, .anyText:
            return matches(value, in: event)
        }
    }
}

/// A numeric comparison, shared by the `lt`/`gt` modifiers and correlation conditions.
public enum ComparisonOperator: String, Sendable, CaseIterable {
    case gt, gte, lt, lte, eq, neq

    /// Whether `value <op> bound`.
    public func holds(_ value: Double, _ bound: Double) -> Bool {
        switch self {
        case .gt: return value > bound
        case .gte: return value >= bound
        case .lt: return value < bound
        case .lte: return value <= bound
        case .eq: return value == bound
        case .neq: return value != bound
        }
    }
}
