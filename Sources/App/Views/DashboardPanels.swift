import Foundation
import Incidents
import SecurityModel

/// The dashboard's live panels: alerts by severity and over time (SVG bars drawn here, no
/// script), the top sources and users, open incidents with their age, what active response holds,
/// MTTA and MTTR, and the pipeline's health. Rendered into the page and, for the live updates, on
/// its own at `/dashboard/panels`.
struct DashboardPanels: Encodable {
    struct Bar: Encodable {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var count: Int
        var label: String
    }

    struct Chart: Encodable {
        var id: String
        var title: String
        var total: Int
        var maximum: Int
        var bars: [Bar]
        var width: Int
        var height: Int
        var from: String
        var to: String
    }

    struct TopRow: Encodable {
        var value: String
        var alerts: Int
    }

    struct OpenIncident: Encodable {
        var row: IncidentRow
        var age: String
    }

    /// Activity in the last 24 hours (logins, failures, API requests, page visits).
    var counts: [CountTile]
    var alertsBySeverity: [CountTile]
    var charts: [Chart]
    var topSources: [TopRow]
    var topUsers: [TopRow]
    var openIncidents: Int
    var incidentsBySeverity: [CountTile]
    var newest: [OpenIncident]
    var blocks: Int
    var rateLimits: Int
    var refused: Int
    var limited: Int
    var mtta: String
    var mttr: String
    var eventsPerSecond: String
    var droppedEvents: Int
    var evictedGroups: Int
    var liveClients: Int
    var generated: String

    /// Draws `histogram` as bars in a `width` × `height` box (the tallest bar fills it).
    static func chart(id: String, title: String, _ histogram: TimeHistogram, label: (Int64) -> String, width: Int = 240, height: Int = 60) -> Chart {
        let count = histogram.counts.count
        let slot = width / max(1, count)
        let maximum = max(1, histogram.maximum)
        let bars = histogram.counts.enumerated().map { index, value in
            let barHeight = value == 0 ? 0 : max(2, value * height / maximum)
            return Bar(x: index * slot + 1, y: height - barHeight, width: max(1, slot - 2), height: barHeight, count: value,
                       label: label(histogram.bucketStart(index)))
        }
        return Chart(id: id, title: title, total: histogram.total, maximum: histogram.maximum, bars: bars, width: slot * count, height: height,
                     from: label(histogram.start), to: "now")
    }

    /// "5 min", "3 h", "2 d".
    static func age(_ seconds: Int64) -> String {
        if seconds < 3600 { return "\(max(0, seconds / 60)) min" }
        if seconds < 86_400 { return "\(seconds / 3600) h" }
        return "\(seconds / 86_400) d"
    }

    /// UTC clock time (`14:05`) or date (`12-01`) of a bucket.
    static func clock(_ microseconds: Int64, date: Bool = false) -> String {
        let text = Timestamp(microseconds: microseconds).iso8601
        let chars = Array(text)
        return date ? String(chars[5..<10]) : String(chars[11..<16])
    }
}
