import Foundation

/// One interface's line of `/proc/net/dev`: bytes, packets and errors received and sent since boot.
public struct InterfaceCounters: Sendable, Equatable {
    public var name: String
    public var receivedBytes: UInt64
    public var receivedPackets: UInt64
    public var receiveErrors: UInt64
    public var sentBytes: UInt64
    public var sentPackets: UInt64
    public var sendErrors: UInt64

    /// Every interface of the file's text (two header lines skipped); lines that do not parse are
    /// counted in `rejected`.
    public static func parse(_ text: String, rejected: inout Int) -> [InterfaceCounters] {
        var interfaces: [InterfaceCounters] = []
        for line in text.split(separator: "\n").dropFirst(2) {
            // "  eth0: 123 4 0 0 0 0 0 0 567 8 0 0 0 0 0 0" (no space after the colon when the counter is wide)
            guard let colon = line.firstIndex(of: ":") else { rejected += 1; continue }
            let numbers = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true).compactMap { UInt64($0) }
            guard numbers.count >= 16 else { rejected += 1; continue }
            interfaces.append(InterfaceCounters(
                name: line[..<colon].trimmingCharacters(in: .whitespaces), receivedBytes: numbers[0], receivedPackets: numbers[1],
                receiveErrors: numbers[2], sentBytes: numbers[8], sentPackets: numbers[9], sendErrors: numbers[10]
            ))
        }
        return interfaces
    }
}
