import SecurityModel

/// What an sshd log message says about an authentication: who, from where, and how it went.
///
/// The user name in these messages is chosen by the client and may contain spaces, so the source
/// address is never looked for by the first ` from `: a name such as `x from 198.51.100.7 port 22`
/// would otherwise choose the source. Messages whose user name comes before the address are read
/// from the end, anchored on `<address> port <n>` and sshd's own suffix (` ssh2`, `: <key>`,
/// ` [preauth]`), as fail2ban's filters anchor them; messages whose client text comes after the
/// address are read from their fixed start. The address must parse as an IP address.
public struct SSHDMessage: Sendable, Equatable {
    public var outcome: String?
    public var user: String?
    public var sourceIP: String?
    public var sourcePort: Int64?
    public var authMethod: String?

    /// Parses the message part of an sshd line; unknown messages leave every field nil.
    public init(_ message: String) {
        let text = Substring(message)
        if let rest = text.dropping("Failed ") ?? text.dropping("Accepted ") {
            // "Failed|Accepted <method> for [invalid user] <user> from <ip> port <port> ssh2[: <key>]"
            guard let space = rest.firstIndex(of: " "), let body = rest[space...].dropping(" for ") else { return }
            outcome = text.hasPrefix("Accepted") ? "success" : "failure"
            authMethod = String(rest[..<space])
            setFromEnd(body, afterFrom: true, userPrefixes: ["invalid user "])
        } else if let body = text.dropping("Invalid user ") {
            // "Invalid user <user> from <ip> port <port>"
            outcome = "invalid_user"
            setFromEnd(body, afterFrom: true, userPrefixes: [])
            if sourceIP != nil, user == nil { user = "" }
        } else if let body = text.dropping("error: maximum authentication attempts exceeded for ") {
            outcome = "max_attempts"
            setFromEnd(body, afterFrom: true, userPrefixes: ["invalid user "])
        } else if let body = text.dropping("Connection closed by ") ?? text.dropping("Disconnected from ") {
            // "...[authenticating |invalid ]user <user> <ip> port <port> [preauth]", or "... <ip> port <port>"
            outcome = "disconnect"
            setFromEnd(body, afterFrom: false, userPrefixes: ["authenticating user ", "invalid user ", "user "])
        } else if let body = text.dropping("Received disconnect from ") {
            // "<ip> port <port>:<code>: <client's text> [preauth]": the client's text comes last.
            outcome = "disconnect"
            setFromStart(body)
        } else if let body = text.dropping("Connection from ") {
            // "Connection from <ip> port <port> on <ip> port <port> ..."
            outcome = "connect"
            setFromStart(body)
        } else if text.contains("authentication failure;") {
            // pam_unix(sshd:auth): authentication failure; ... rhost=<ip>  user=<user>
            // rhost comes before user=, which the client chose (and may hold " rhost=...").
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            if let rhost = fields.first(where: { $0.hasPrefix("rhost=") })?.dropFirst(6), IPAddress(rhost) != nil {
                sourceIP = String(rhost)
            }
            if let range = text.range(of: " user=", options: .backwards) ?? text.range(of: "user=") {
                let name = text[range.upperBound...]
                if !name.isEmpty { user = String(name) }
            }
        }
    }

    /// Reads `<head> [from] <ip> port <port><suffix>` from the end: the last place where an address,
    /// `port`, a number and one of sshd's suffixes end the message. The head is the user (after one of
    /// `userPrefixes`, which are dropped; none when the head is empty).
    private mutating func setFromEnd(_ body: Substring, afterFrom: Bool, userPrefixes: [String]) {
        var searchEnd = body.endIndex
        while let portRange = body[..<searchEnd].range(of: " port ", options: .backwards) {
            searchEnd = portRange.lowerBound
            let afterPort = body[portRange.upperBound...]
            let digits = afterPort.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 5, let port = Int64(digits), Self.isSSHDSuffix(afterPort[digits.endIndex...]) else { continue }
            let beforePort = body[..<portRange.lowerBound]
            let ipStart = beforePort.lastIndex(of: " ").map { beforePort.index(after: $0) } ?? beforePort.startIndex
            let ip = beforePort[ipStart...]
            guard IPAddress(ip) != nil else { continue }
            var head = beforePort[..<ipStart]
            if afterFrom {
                if head == "from " { head = "" } else if let stripped = head.dropping(suffix: " from ") { head = stripped } else { continue }
            } else if head.hasSuffix(" ") {
                head = head.dropLast()
            }
            sourceIP = String(ip)
            sourcePort = port
            for prefix in userPrefixes {
                if let name = head.dropping(prefix) { user = String(name); return }
                if head == prefix.dropLast() { user = ""; return }
            }
            if afterFrom, !head.isEmpty { user = String(head) }
            return
        }
    }

    /// Reads `<ip> port <port>` at the start of `body` (sshd's own text; the client's comes after).
    private mutating func setFromStart(_ body: Substring) {
        let parts = body.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[1] == "port", IPAddress(parts[0]) != nil else { return }
        sourceIP = String(parts[0])
        let digits = parts[2].prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 5 { sourcePort = Int64(digits) }
    }

    /// What sshd writes after the port: nothing, ` ssh2`, `: <key>` (after ` ssh2`), ` [preauth]`,
    /// or ` on <ip> port <n> ...` (connections), in these orders.
    private static func isSSHDSuffix(_ rest: Substring) -> Bool {
        var rest = rest
        if let after = rest.dropping(" ssh2") {
            rest = after
            // The key type and fingerprint of publickey lines: sshd's own text.
            if rest.hasPrefix(": ") { return true }
        }
        if let after = rest.dropping(" [preauth]") { rest = after }
        return rest.isEmpty
    }
}

private extension Substring {
    /// The rest after `prefix`, or nil when it does not start with it.
    func dropping(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? self[index(startIndex, offsetBy: prefix.count)...] : nil
    }

    /// What comes before `suffix`, or nil when it does not end with it.
    func dropping(suffix: String) -> Substring? {
        hasSuffix(suffix) ? self[..<index(endIndex, offsetBy: -suffix.count)] : nil
    }
}
