/// What one observation of a group did (plain data: the window's evidence is read afterwards, and
/// only when an alert opens, with ``GroupTable/windowEvidence(slot:now:store:)``).
struct GroupOutcome {
    init(openingTime: Int64) { self.openingTime = openingTime }
    var holds = false
    /// Temporal types: when the completed match began.
    var openingTime: Int64
    /// Temporal types: the events of the completed match (the evidence of the alert or chained hit).
    var chain = Evidence()
    /// The alert that was open before this observation (negative: an untracked episode).
    var openAlert: Int?
    /// An alert that ended because the window had emptied before this event.
    var expiredAlert: Int?
    /// Whether making this event's group evicted another one (the table was at its cap), and the
    /// evicted group's open alert.
    var evicted = false
    var evictedAlert: Int?
    /// Whether the window was over its cap of entries and its oldest one was dropped.
    var trimmed = false
}
