import Foundation
import DetectionEngine
import LogFormats
import SecurityModel

/// Renders alerts and the run summary for people (a table) and programs (JSON, NDJSON).
public struct AlertRenderer: Sendable {
    public enum Style: String, CaseIterable, Sendable { case table, json, ndjson }

    /// Input names, to turn event references into `file:line`.
    public var inputNames: [String]

    public init(inputNames: [String]) { self.inputNames = inputNames }

    /// `file:line` for a line reference, the id otherwise.
    public func describe(_ ref: EventRef) -> String {
        switch ref {
        case .line(let source, let line):
            let name = Int(source) < inputNames.count ? inputNames[Int(source)] : "#\(source)"
            return "\(name):\(line)"
        default: return ref.id ?? ref.description
        }
    }

    /// Evidence compressed per input: `app.log:12,13,40`.
    public func evidence(_ alert: Alert, limit: Int = 6) -> String {
        var parts: [String] = []
        var lastSource: Int32?
        for ref in alert.events.prefix(limit) {
            if case .line(let source, let line) = ref, source == lastSource {
                parts[parts.count - 1] += ",\(line)"
            } else {
                parts.append(describe(ref))
                if case .line(let source, _) = ref { lastSource = source } else { lastSource = nil }
            }
        }
        let more = alert.eventCount - min(limit, alert.events.count)
        return parts.joined(separator: " ") + (more > 0 ? " (+\(more))" : "")
    }

    /// One alert as a JSON object (one line).
    public func json(_ alert: Alert) -> String {
        var out = "{\"number\":\(alert.number),\"rule\":{"
        var ruleFields: [String] = ["\"label\":" + quote(alert.rule.label)]
        if let id = alert.rule.id { ruleFields.append("\"id\":" + quote(id)) }
        if let name = alert.rule.name { ruleFields.append("\"name\":" + quote(name)) }
        ruleFields.append("\"title\":" + quote(alert.rule.title))
        ruleFields.append("\"kind\":" + quote(alert.rule.kind.rawValue))
        ruleFields.append("\"file\":" + quote(alert.rule.file))
        if !alert.rule.tags.isEmpty { ruleFields.append("\"tags\":[" + alert.rule.tags.map(quote).joined(separator: ",") + "]") }
        out += ruleFields.joined(separator: ",") + "},\"level\":" + quote(alert.level.rawValue)
        out += ",\"group\":{" + alert.group.map { quote($0.field) + ":" + ($0.value.map(quote) ?? "null") }.joined(separator: ",") + "}"
        out += ",\"first_time\":" + quote(alert.firstTime.iso8601 + "Z") + ",\"last_time\":" + quote(alert.lastTime.iso8601 + "Z")
        out += ",\"event_count\":\(alert.eventCount),\"hold_count\":\(alert.holdCount),\"events\":[" + alert.events.map { quote(describe($0)) }.joined(separator: ",") + "]"
        if let explanation = alert.explanation { out += ",\"explanation\":" + quote(explanation) }
        return out + "}"
    }

    private func quote(_ text: String) -> String {
        var out: [UInt8] = []
        JSONText.appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The alerts as a table, most severe first within time order.
    public func table(_ alerts: [Alert]) -> String {
        guard !alerts.isEmpty else { return "No alerts.\n" }
        let header = ["LEVEL", "RULE", "TITLE", "GROUP", "FIRST (UTC)", "LAST (UTC)", "EVENTS", "EVIDENCE"]
        let rows = alerts.map { alert -> [String] in
            [alert.level.rawValue, TerminalText.safe(alert.rule.label), TerminalText.safe(String(alert.rule.title.prefix(40))),
             alert.groupDescription.isEmpty ? "-" : TerminalText.safe(String(alert.groupDescription.prefix(48))),
             Self.shortTime(alert.firstTime), Self.shortTime(alert.lastTime), String(alert.eventCount), TerminalText.safe(evidence(alert))]
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < row.count - 1 { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        // A baseline alert's explanation goes on the line below it.
        var lines = [line(header)]
        for (alert, row) in zip(alerts, rows) {
            lines.append(line(row))
            if let explanation = alert.explanation { lines.append("    " + TerminalText.safe(explanation)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func shortTime(_ time: Timestamp) -> String {
        let text = time.iso8601
        return String(text.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    /// The whole run as one JSON document: `{"alerts": [...], "summary": {...}}`.
    public func document(_ report: AnalysisReport, elapsedSeconds: Double) -> String {
        let seconds = max(elapsedSeconds, 1e-9)
        var summary: [String] = []
        summary.append("\"inputs\":[" + report.inputs.map { input in
            var fields = ["\"name\":" + quote(input.name), "\"format\":" + (input.format.map { quote($0.rawValue) } ?? "null"),
                          "\"lines\":\(input.lines)", "\"events\":\(input.events)", "\"rejected\":\(input.rejected)",
                          "\"outside_range\":\(input.outsideRange)"]
            if let failure = input.failure { fields.append("\"error\":" + quote(failure)) }
            return "{" + fields.joined(separator: ",") + "}"
        }.joined(separator: ",") + "]")
        summary.append("\"events\":\(report.totalEvents)")
        summary.append("\"ordering\":" + (report.ordering.map(quote) ?? "null"))
        summary.append("\"rejected\":\(report.totalRejected)")
        summary.append("\"rejected_by_reason\":{" + report.rejectionReasons.sorted { $0.key < $1.key }
            .map { quote($0.key) + ":\($0.value)" }.joined(separator: ",") + "}")
        summary.append("\"rejections\":[" + report.rejections.map {
            "{\"input\":" + quote($0.input) + ",\"line\":\($0.line),\"reason\":" + quote($0.reason) + "}"
        }.joined(separator: ",") + "]")
        summary.append("\"late\":\(report.engine.late)")
        summary.append("\"late_events\":[" + report.engine.lateEvents.map { quote(describe($0)) }.joined(separator: ",") + "]")
        summary.append("\"evicted_groups\":\(report.engine.evictedGroups),\"trimmed_window_entries\":\(report.engine.trimmedEntries),\"truncated_values\":\(report.engine.truncatedValues)")
        summary.append("\"unscreened_rules\":\(report.engine.unscreenedRules),\"forgotten_values\":\(report.engine.forgottenValues)")
        summary.append("\"rules\":\(report.rulesLoaded)")
        summary.append("\"alerts_by_level\":{" + report.alertsByLevel.map { quote($0.0.rawValue) + ":\($0.1)" }.joined(separator: ",") + "}")
        summary.append(String(format: "\"elapsed_seconds\":%.3f,\"events_per_second\":%.0f,\"mb_per_second\":%.1f",
                              elapsedSeconds, Double(report.totalEvents) / seconds, Double(report.totalBytes) / 1_000_000 / seconds))
        return "{\"alerts\":[" + report.alerts.map(json).joined(separator: ",") + "],\"summary\":{" + summary.joined(separator: ",") + "}}"
    }

    /// The closing summary (counts, rejections, throughput).
    public func summary(_ report: AnalysisReport, elapsedSeconds: Double) -> String {
        var lines: [String] = []
        for input in report.inputs {
            var text = "input \(TerminalText.safe(input.name)): "
            if let failure = input.failure { text += "ERROR \(TerminalText.safe(failure)); " }
            text += "\(input.format?.rawValue ?? "unrecognised") format, \(input.lines) lines, \(input.events) events, \(input.rejected) rejected"
            if input.outsideRange > 0 { text += ", \(input.outsideRange) outside --since/--until" }
            lines.append(text)
        }
        if let ordering = report.ordering { lines.append(TerminalText.safe(ordering)) }
        lines.append("events: \(report.totalEvents) analysed, \(report.totalRejected) lines rejected, \(report.engine.late) late (beyond the lateness window, not correlated)")
        if !report.engine.lateEvents.isEmpty {
            lines.append("first late events: " + TerminalText.safe(report.engine.lateEvents.prefix(10).map(describe).joined(separator: ", ")))
        }
        let engine = report.engine
        if engine.evictedGroups > 0 || engine.trimmedEntries > 0 || engine.truncatedValues > 0 {
            lines.append("detection state limits reached: \(engine.evictedGroups) groups evicted, \(engine.trimmedEntries) window entries dropped early, \(engine.truncatedValues) values cut (alerts near these may differ from an unbounded run)")
        }
        if engine.forgottenValues > 0 {
            lines.append("baseline limit reached: \(engine.forgottenValues) known value(s) forgotten early by first_seen rules (a group had more distinct values than it keeps; they would count as new again)")
        }
        if engine.unscreenedRules > 0 {
            lines.append("rule screen limit reached: \(engine.unscreenedRules) rule(s) were tested on every event because their literals did not fit in the screen's memory limit (slower, same alerts)")
        }
        if !report.rejectionReasons.isEmpty {
            lines.append("rejected lines by reason:")
            for (reason, count) in report.rejectionReasons.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }).prefix(10) {
                lines.append("  \(count)  \(TerminalText.safe(reason))")
            }
            lines.append("first rejected lines:")
            for rejection in report.rejections.prefix(10) { lines.append("  \(TerminalText.safe(rejection.description))") }
        }
        lines.append("rules: \(report.rulesLoaded) loaded")
        let levels = report.alertsByLevel.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ")
        lines.append("alerts: \(report.alerts.count)" + (levels.isEmpty ? "" : " (\(levels))"))
        let seconds = max(elapsedSeconds, 1e-9)
        let mb = Double(report.totalBytes) / 1_000_000
        lines.append(String(format: "throughput: %lld lines in %.2f s: %.0f events/s, %.1f MB/s",
                            report.totalLines, elapsedSeconds, Double(report.totalEvents) / seconds, mb / seconds))
        return lines.joined(separator: "\n") + "\n"
    }
}
