import Analysis
import DetectionEngine
import EventPipeline
import Foundation
import LogFormats
import SecurityModel

/// Puts log files in time order across all of them, within a memory budget, for `secmon analyze`
/// when its input turned out not to be: each line's time is decoded (the format detected per file
/// as the analysis does), the lines go through an ``ExternalSorter`` keyed by time, and come out
/// in order with their file and line number, ready for ``Analyzer/feed(_:input:number:)``.
///
/// Lines whose time cannot be decoded come first (the analysis rejects them with their reason, as
/// it would have); among equal times, the order of the input is kept.
struct TimeOrderedInput {
    /// What the sort did, for the summary.
    struct Summary {
        var lines: Int64
        var runs: Int
        var spilledBytes: Int64
        var directory: String
    }

    let paths: [String]
    let rules: RuleSet
    let format: LogFormat?
    let referenceTime: Timestamp
    let spillDirectory: String
    let memoryBytes: Int

    /// Reads every input once into the sorter; returns the formats found and the sorter.
    func sort(progress: (String, Int64, Int64?) -> Void) throws -> (formats: [LogFormat?], sorter: ExternalSorter) {
        let sorter = try ExternalSorter(directory: spillDirectory, budgetBytes: memoryBytes)
        var formats: [LogFormat?] = []
        var record = EventRecord(slotCount: rules.fields.count)
        for (index, path) in paths.enumerated() {
            let reader = try LineReader(path: path, maxLineBytes: LineDecoder.maxLineBytes)
            var decoder = format.map { LineDecoder(format: $0, fields: rules.fields, only: [], keepRawLine: false, referenceTime: referenceTime) }
            var detected = format
            var waiting: [(line: [UInt8], number: Int64)] = []
            var number: Int64 = 0
            var failure: (any Error)?

            func add(_ line: UnsafeBufferPointer<UInt8>, number: Int64) throws {
                var key = Int64.min
                if decoder != nil, !line.isEmpty {
                    do {
                        try decoder!.decode(line, into: &record)
                        key = record.timestamp.microseconds
                    } catch {}
                }
                try Self.append(to: sorter, key: key, input: index, number: number, oversized: nil, line: line)
            }
            func detect() throws {
                if decoder == nil {
                    let samples = waiting.map(\.line).filter { !$0.isEmpty }
                    detected = LogFormat.detect(samples, referenceTime: referenceTime)
                    decoder = detected.map { LineDecoder(format: $0, fields: rules.fields, only: [], keepRawLine: false, referenceTime: referenceTime) }
                }
                for (line, number) in waiting { try line.withUnsafeBufferPointer { try add($0, number: number) } }
                waiting.removeAll()
            }
            do {
                try reader.forEach { item in
                    number += 1
                    switch item {
                    case .line(let line):
                        if decoder == nil && detected == nil && waiting.count < Analyzer.detectionSampleLines {
                            waiting.append((Array(line), number))
                            if waiting.count == Analyzer.detectionSampleLines { try detect() }
                        } else {
                            try add(line, number: number)
                        }
                    case .oversized(let length):
                        try Self.append(to: sorter, key: Int64.min, input: index, number: number, oversized: length, line: UnsafeBufferPointer(start: nil, count: 0))
                    }
                    if number & 0xFFFF == 0 { progress(path, reader.consumed, reader.fileSize) }
                }
                try detect()
            } catch let error as ExternalSorter.Failure {
                throw error
            } catch {
                failure = error
            }
            if let failure { throw ExternalSorter.Failure(description: "\(path): \(failure)") }
            formats.append(detected)
        }
        return (formats, sorter)
    }

    /// Record layout, little-endian: the input (4 bytes) and the line number (8), then the line;
    /// for a line too long to keep, the line number negated and the line's length (8) instead.
    static func append(to sorter: ExternalSorter, key: Int64, input: Int, number: Int64, oversized: Int?, line: UnsafeBufferPointer<UInt8>) throws {
        try withUnsafeTemporaryAllocation(byteCount: 20, alignment: 8) { header in
            header.storeBytes(of: UInt32(input).littleEndian, toByteOffset: 0, as: UInt32.self)
            header.storeBytes(of: (oversized == nil ? number : -number).littleEndian, toByteOffset: 4, as: Int64.self)
            if let oversized { header.storeBytes(of: Int64(oversized).littleEndian, toByteOffset: 12, as: Int64.self) }
            let used = UnsafeRawBufferPointer(rebasing: header[0..<(oversized == nil ? 12 : 20)])
            try sorter.append(key: key, prefix: used, bytes: line)
        }
    }

    /// Feeds the sorted lines to `analyzer` (whose inputs were begun with the formats found).
    static func feed(_ sorter: ExternalSorter, into analyzer: inout Analyzer) throws {
        try sorter.forEachSorted { _, record in
            let raw = UnsafeRawBufferPointer(record)
            let input = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            let number = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: Int64.self))
            if number < 0 {
                let length = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: Int64.self))
                analyzer.feedOversized(length: Int(length), input: input, number: -number)
            } else {
                analyzer.feed(UnsafeBufferPointer(rebasing: record[12...]), input: input, number: number)
            }
        }
    }
}
