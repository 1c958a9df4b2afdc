/// Text that rarely appears in benign files and often in droppers, web shells, reverse shells and
/// injectors, grouped by what it suggests. Matched case-insensitively inside printable runs.
public struct StringPattern: Sendable, Equatable {
    /// What a hit suggests, as an analyst would name it.
    public let category: String
    /// Lowercase ASCII.
    public let needle: [UInt8]

    public init(category: String, needle: String) {
        self.category = category
        self.needle = Array(needle.lowercased().utf8)
    }

    /// The bundled set.
    public static let bundled: [StringPattern] = [
        ("reverse shell", ["/dev/tcp/", "bash -i", "nc -e ", "ncat -e ", "sh -i >", "mkfifo /tmp/", "socat exec:", "pty.spawn("]),
        ("download and run", ["| sh", "|sh;", "| bash", "|bash", "chmod +x /tmp/", "chmod 777 /tmp/", "/dev/shm/"]),
        ("credential access", ["/etc/shadow", "id_rsa", "authorized_keys", "mimikatz", "sekurlsa::"]),
        ("persistence", ["/etc/rc.local", "/etc/cron.d/", "crontab -", "/etc/ld.so.preload", "systemctl enable"]),
        ("process injection", ["createremotethread", "virtualallocex", "writeprocessmemory", "ntunmapviewofsection", "ptrace(ptrace_attach"]),
        ("encoded command", ["powershell -enc", "-encodedcommand", "frombase64string(", "base64 -d |", "base64 --decode |"]),
        ("obfuscated eval", ["eval(base64_decode(", "eval(gzinflate(", "eval(atob(", "exec(base64.b64decode(", "assert($_post", "eval($_post", "eval($_request"]),
        ("crypto miner", ["stratum+tcp://", "stratum+ssl://", "xmrig", "cryptonight", "minexmr"]),
        ("log tampering", ["history -c", "unset histfile", "> /var/log/", "shred -u /var/log", "wevtutil cl"]),
        ("packer", ["upx!", "$info: this file is packed with the upx"]),
    ].flatMap { category, needles in needles.map { StringPattern(category: category, needle: $0) } }
}
