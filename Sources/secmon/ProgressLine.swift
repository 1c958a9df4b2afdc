import Foundation

/// A one-line progress report on standard error (only on a terminal), redrawn in place.
final class ProgressLine {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(name: String, consumed: Int64, size: Int64?, events: Int64, since start: Date) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.5 else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        var text = "\(name): \(consumed / 1_000_000) MB"
        if let size, size > 0 { text += String(format: " of %lld MB (%.0f%%)", size / 1_000_000, 100 * Double(consumed) / Double(size)) }
        text += String(format: ", %lld events, %.0f events/s", events, Double(events) / elapsed)
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
        drawn = true
    }

    func clear() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
