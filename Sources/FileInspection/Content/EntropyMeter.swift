#if canImport(Glibc)
import Glibc
#endif

/// How random a file's bytes look, whole and block by block (Shannon entropy, 0 to 8 bits per
/// byte). Packed, encrypted or compressed content sits near 8; text near 4 to 5.
public struct EntropyProfile: Sendable, Equatable, Codable {
    /// Entropy of the whole file.
    public var whole: Double
    /// Bytes per block.
    public var blockSize: Int
    /// Blocks measured (the last may be short).
    public var blocks: Int
    /// The lowest and highest block entropy.
    public var minimum: Double
    public var maximum: Double
    /// Blocks at or above `EntropyMeter.highThreshold`.
    public var highBlocks: Int
    /// At most `EntropyMeter.seriesLength` points across the file, each the highest block entropy
    /// of its stretch: the shape of the file at a glance.
    public var series: [Double]
}

/// Counts bytes as they stream past; memory is fixed whatever the file's size.
public struct EntropyMeter: Sendable {
    /// A block at or above this many bits per byte counts as high (packed or encrypted).
    public static let highThreshold = 7.2
    public static let seriesLength = 64

    public let blockSize: Int
    private let expectedBlocks: Int
    private var whole = [UInt64](repeating: 0, count: 256)
    private var block = [UInt32](repeating: 0, count: 256)
    private var inBlock = 0
    private var blocks = 0
    private var minimum = 8.0
    private var maximum = 0.0
    private var highBlocks = 0
    private var series: [Double]

    /// `expectedSize` (the file's size when the scan starts) spreads the series across the file.
    public init(blockSize: Int = 64 * 1024, expectedSize: Int) {
        self.blockSize = max(blockSize, 256)
        let expected = expectedSize / self.blockSize + (expectedSize % self.blockSize == 0 ? 0 : 1)
        self.expectedBlocks = max(expected, 1)
        self.series = []
        self.series.reserveCapacity(Self.seriesLength)
    }

    public mutating func update(_ chunk: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < chunk.count {
            let take = min(blockSize - inBlock, chunk.count - offset)
            let part = UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + take)])
            block.withUnsafeMutableBufferPointer { counts in
                for byte in part { counts[Int(byte)] &+= 1 }
            }
            inBlock += take
            offset += take
            if inBlock == blockSize { closeBlock() }
        }
    }

    public mutating func finish() -> EntropyProfile {
        if inBlock > 0 { closeBlock() }
        let total = whole.reduce(0, +)
        return EntropyProfile(
            whole: Self.entropy(whole, total: total), blockSize: blockSize, blocks: blocks,
            minimum: blocks == 0 ? 0 : minimum, maximum: maximum, highBlocks: highBlocks, series: series
        )
    }

    private mutating func closeBlock() {
        var total: UInt64 = 0
        for index in 0..<256 {
            let count = UInt64(block[index])
            whole[index] &+= count
            total &+= count
        }
        let value = Self.entropy(block, total: total)
        block = [UInt32](repeating: 0, count: 256)
        inBlock = 0
        minimum = Swift.min(minimum, value)
        maximum = Swift.max(maximum, value)
        if value >= Self.highThreshold { highBlocks += 1 }
        let point = Swift.min(blocks * Self.seriesLength / expectedBlocks, Self.seriesLength - 1)
        if point < series.count {
            series[series.count - 1] = Swift.max(series[series.count - 1], value)
        } else {
            series.append(value)
        }
        blocks += 1
    }

    /// Shannon entropy in bits per byte of a byte histogram.
    public static func entropy<C: Collection>(_ counts: C, total: UInt64) -> Double where C.Element: BinaryInteger {
        guard total > 0 else { return 0 }
        let n = Double(total)
        var sum = 0.0
        for count in counts where count > 0 {
            let p = Double(count) / n
            sum -= p * log2(p)
        }
        return sum
    }
}
