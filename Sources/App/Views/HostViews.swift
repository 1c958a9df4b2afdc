import Foundation
import HostSensors
import SecurityModel

/// What the host pages show, built from the sensors' readings: numbers formatted for people,
/// and line charts drawn by the server as SVG (no script, no CDN).
enum HostViews {
    /// A line chart: one or two series over time, scaled to `maximum`.
    struct LineChart: Encodable {
        struct Series: Encodable {
            var name: String
            var css: String
            /// SVG polyline points ("x,y x,y ...").
            var points: String
            var latest: String
        }

        var id: String
        var title: String
        var unit: String
        var width: Int
        var height: Int
        var series: [Series]
        var maximum: String
        var from: String
        var to: String
        var empty: Bool
    }

    /// Draws `values` of `points` (oldest first) between `start` and `end` (microseconds).
    static func lineChart(id: String, title: String, unit: String, points: [MetricPoint], start: Int64, end: Int64, fixedMaximum: Double? = nil,
                          series: [(name: String, css: String, value: (MetricPoint) -> Double)], format: (Double) -> String,
                          width: Int = 480, height: Int = 120) -> LineChart {
        let observed = points.flatMap { point in series.map { $0.value(point) } }.max() ?? 0
        let maximum = max(fixedMaximum ?? 0, observed, fixedMaximum == nil ? 1 : 0)
        let span = Double(max(1, end - start))
        func x(_ time: Int64) -> Int { Int((Double(time - start) / span * Double(width)).rounded()).clamped(0, width) }
        func y(_ value: Double) -> Int { Int((Double(height) - value / maximum * Double(height - 4)).rounded()).clamped(0, height) }
        let drawn = series.map { item -> LineChart.Series in
            // A single point is drawn as a short dash (a polyline of one point shows nothing).
            var coordinates = points.map { (x($0.time + Int64($0.seconds) * 500_000), y(item.value($0))) }
            if coordinates.count == 1 { coordinates.insert((max(0, coordinates[0].0 - 4), coordinates[0].1), at: 0) }
            return LineChart.Series(name: item.name, css: item.css,
                             points: coordinates.map { "\($0.0),\($0.1)" }.joined(separator: " "),
                             latest: points.last.map { format(item.value($0)) } ?? "–")
        }
        return LineChart(id: id, title: title, unit: unit, width: width, height: height, series: drawn, maximum: format(maximum),
                         from: clock(start, long: end - start > 86_400_000_000), to: "now", empty: points.isEmpty)
    }

    /// `1.5 GiB`, `830 MiB`, `12 KiB`, `512 B`.
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var amount = max(0, value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(amount)) B" : String(format: amount < 10 ? "%.1f %@" : "%.0f %@", amount, units[unit])
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f %%", value) }

    /// `3 d 4 h`, `5 h 12 min`, `7 min`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds))
        let days = total / 86_400, hours = total % 86_400 / 3600, minutes = total % 3600 / 60
        if days > 0 { return "\(days) d \(hours) h" }
        if hours > 0 { return "\(hours) h \(minutes) min" }
        return "\(minutes) min"
    }

    /// `14:05` or, for long ranges, `12-01 14:05` (UTC).
    static func clock(_ microseconds: Int64, long: Bool = false) -> String {
        let text = Array(Timestamp(microseconds: microseconds).iso8601)
        return long ? String(text[5..<10]) + " " + String(text[11..<16]) : String(text[11..<16])
    }

    /// `2026-12-02 08:58:43`.
    static func time(_ microseconds: Int64) -> String {
        String(Timestamp(microseconds: microseconds).iso8601.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }
}

extension Int {
    func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(self, low), high) }
}
