extension String {
    /// The longest prefix of at most `maxBytes` UTF-8 bytes that ends on a Unicode scalar boundary.
    ///
    /// Limits that protect memory or disk count bytes, never `Character`s: one `Character` can hold
    /// any number of combining marks, so "64 characters" can be tens of kilobytes.
    public func prefix(utf8Bytes maxBytes: Int) -> String {
        let utf8 = self.utf8
        guard utf8.count > maxBytes else { return self }
        guard maxBytes > 0 else { return "" }
        var end = utf8.index(utf8.startIndex, offsetBy: maxBytes)
        // Back over continuation bytes (10xxxxxx) to the start of the scalar that did not fit.
        while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(decoding: utf8[utf8.startIndex..<end], as: UTF8.self)
    }
}
