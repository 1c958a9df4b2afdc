import SecurityModel

/// File integrity changes and scanner verdicts as events, under Sigma's field names where it has
/// them, so that rules (SecMon's F- and S- rules, or an analyst's) turn them into alerts.
///
/// - `file_event`: `TargetFilename` (Sigma's), and SecMon's `ChangeType` (`added`, `modified`,
///   `deleted`, `permissions`), `ChangedAttributes` (`sha256,size,mtime`), `ContentChanged`
///   (`'true'`/`'false'`), `Sha256`/`PreviousSha256`, `Mode`/`PreviousMode` (octal),
///   `Owner`/`PreviousOwner` (uid:gid), `FileKind`, `LinkTarget`, `Computer`.
/// - `antivirus`: `Filename` and `Signature` (Sigma's: the reasons' codes), and SecMon's
///   `Verdict`, `Reasons` (every reason, `; `-separated), `Sha256`, `Md5`, `Sha1`, `FileType`,
///   `FileSize`, `ScanSource` (`upload`, `cli`, `path`), `User`, `Computer`.
public enum FileEvents {
    public static func change(_ change: FileChange, hostname: String, time: Timestamp) -> SecurityEvent {
        var fields: [SecurityEvent.Field] = [
            .init("TargetFilename", .string(change.path)),
            .init("ChangeType", .string(change.kind.rawValue)),
            .init("ChangedAttributes", .string(change.attributes.joined(separator: ","))),
            .init("ContentChanged", .string(change.contentChanged ? "true" : "false")),
        ]
        let current = change.new ?? change.old
        if let current { fields.append(.init("FileKind", .string(current.kind.rawValue))) }
        if let sha = change.new?.sha256 { fields.append(.init("Sha256", .string(sha))) }
        if let sha = change.old?.sha256, change.kind != .added { fields.append(.init("PreviousSha256", .string(sha))) }
        if let new = change.new {
            fields.append(.init("Mode", .string(octal(new.mode))))
            fields.append(.init("Owner", .string("\(new.uid):\(new.gid)")))
            if let link = new.linkTarget { fields.append(.init("LinkTarget", .string(link))) }
        }
        if let old = change.old, change.new != nil {
            fields.append(.init("PreviousMode", .string(octal(old.mode))))
            fields.append(.init("PreviousOwner", .string("\(old.uid):\(old.gid)")))
        }
        fields.append(.init("Computer", .string(hostname)))
        return SecurityEvent(time: time, id: EventID.make(at: time), source: .fileEvent, fields: fields,
                             entities: [Entity(.host, hostname), Entity(.file, change.path)])
    }

    /// A scan verdict. `user` is who asked for the scan (the uploader, or the shell user).
    public static func verdict(_ report: ScanReport, path: String?, source: String, user: String?, hostname: String, time: Timestamp) -> SecurityEvent {
        let weighty = report.reasons.filter { $0.weight != .clean }
        var fields: [SecurityEvent.Field] = [
            .init("Filename", .string(path ?? report.name)),
            .init("Signature", .string(Array(Set(weighty.map(\.code))).sorted().joined(separator: ","))),
            .init("Verdict", .string(report.verdict.rawValue)),
            .init("Reasons", .string(weighty.map(\.detail).joined(separator: "; "))),
            .init("Sha256", .string(report.digests.sha256)),
            .init("Md5", .string(report.digests.md5)),
            .init("Sha1", .string(report.digests.sha1)),
            .init("FileType", .string(report.type.rawValue)),
            .init("FileSize", .int(Int64(clamping: report.size))),
            .init("ScanSource", .string(source)),
        ]
        if let user { fields.append(.init("User", .string(user))) }
        fields.append(.init("Computer", .string(hostname)))
        var entities = [Entity(.host, hostname), Entity(.file, path ?? report.name)]
        if let user { entities.append(Entity(.user, user)) }
        return SecurityEvent(time: time, id: EventID.make(at: time), source: .antivirus, fields: fields, entities: entities)
    }

    /// `0644`, `4755`.
    public static func octal(_ mode: UInt32) -> String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}
