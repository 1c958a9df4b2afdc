/// One difference between the accepted baseline and what is on disk now.
public struct FileChange: Sendable, Equatable, Codable {
    /// AIDE's classes of change.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case added, modified, deleted
        /// Only the mode, owner or group changed.
        case permissions
    }

    public var path: String
    public var kind: Kind
    /// The attributes that differ (`sha256`, `size`, `mtime`, `inode`, `type`, `link`, `mode`,
    /// `uid`, `gid`), empty for added and deleted paths.
    public var attributes: [String]
    /// The baseline state (nil when added).
    public var old: FileState?
    /// The state now (nil when deleted).
    public var new: FileState?

    public init(path: String, kind: Kind, attributes: [String], old: FileState?, new: FileState?) {
        self.path = path
        self.kind = kind
        self.attributes = attributes
        self.old = old
        self.new = new
    }

    /// Whether the content (or what a link points at, or the kind of entry) changed, not only
    /// metadata.
    public var contentChanged: Bool {
        kind == .added || kind == .deleted || attributes.contains("sha256") || attributes.contains("type") || attributes.contains("link")
    }
}
