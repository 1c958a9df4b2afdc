/// The version SecMon reports (`secmon --version`, `/api/status`).
public enum SecMonVersion {
    public static let current = "0.1.0"
}
