import Foundation
import NIOCore
import NIOPosix
import Vapor

/// Receives an upload as it streams in, straight to a file in SecMon's own upload directory,
/// never whole in memory: a raw body (`application/octet-stream`, its name in `?name=`) or the
/// browser form's `multipart/form-data` (its first file part). Stops at `maxBytes` and deletes
/// what it wrote.
struct UploadReceiver {
    struct Upload {
        var path: String
        var name: String
        var bytes: Int
    }

    let directory: String
    let maxBytes: Int

    /// The receiver the configuration asks for: `data/uploads/`, at most `scanUploadMaxBytes`.
    init(config: SecMonConfig) {
        directory = config.dataDirectory + "/uploads"
        maxBytes = config.scanUploadMaxBytes
    }

    init(directory: String, maxBytes: Int) {
        self.directory = directory
        self.maxBytes = maxBytes
    }

    /// A refusal the page and API show as it is.
    struct Refusal: Error {
        var status: HTTPResponseStatus
        var reason: String
    }

    func receive(_ request: Request) async throws -> Upload {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = directory + "/upload-" + UUID().uuidString.lowercased()
        let io = NonBlockingFileIO(threadPool: request.application.threadPool)
        let handle = try await io.openFile(_deprecatedPath: path, mode: .write, flags: .allowFileCreation(posixMode: 0o600), eventLoop: request.eventLoop).get()
        var written = 0
        var name = Self.cleanName(request.query[String.self, at: "name"])
        do {
            defer { try? handle.close() }
            let multipart = request.headers.contentType.flatMap { $0.type == "multipart" && $0.subType == "form-data" ? $0.parameters["boundary"] : nil }
            if let boundary = multipart {
                let state = MultipartState()
                let parser = MultipartParser(boundary: boundary)
                parser.onHeader = { field, value in state.header(field, value) }
                parser.onBody = { buffer in if state.inFile && !state.fileDone { state.pending.append(buffer) } }
                parser.onPartComplete = { state.partComplete() }
                for try await chunk in request.body {
                    do { try parser.execute(chunk) } catch {
                        throw Refusal(status: .badRequest, reason: "the multipart body is malformed after \(written) bytes of the file: \(error)")
                    }
                    for buffer in state.pending {
                        written += buffer.readableBytes
                        guard written <= maxBytes else { throw tooLarge() }
                        try await io.write(fileHandle: handle, buffer: buffer, eventLoop: request.eventLoop).get()
                    }
                    state.pending.removeAll()
                }
                guard state.sawFile else { throw Refusal(status: .badRequest, reason: "the form has no file part (a field named file, with a filename)") }
                if let filename = state.filename { name = Self.cleanName(filename) }
            } else {
                for try await chunk in request.body {
                    written += chunk.readableBytes
                    guard written <= maxBytes else { throw tooLarge() }
                    try await io.write(fileHandle: handle, buffer: chunk, eventLoop: request.eventLoop).get()
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return Upload(path: path, name: name, bytes: written)
    }

    private func tooLarge() -> Refusal {
        Refusal(status: .payloadTooLarge, reason: "the file is larger than the upload limit of \(maxBytes) bytes (\(maxBytes >> 20) MiB; --scan-max-mib or SECMON_SCAN_MAX_MIB raises it); scan it on the server with 'secmon scan' instead")
    }

    /// The last path segment of a client's file name, without control characters, at most 255
    /// bytes; `upload` when nothing is left.
    static func cleanName(_ raw: String?) -> String {
        guard let raw else { return "upload" }
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(String.UnicodeScalarView(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f && !(0x80...0x9f).contains($0.value) }))
        let cut = cleaned.prefix(utf8Bytes: 255)
        return cut.isEmpty || cut == "." || cut == ".." ? "upload" : cut
    }

    /// The parser's callbacks' shared state: which part is being read, and the file's bytes not
    /// yet written.
    private final class MultipartState: @unchecked Sendable {
        var inFile = false
        var fileDone = false
        var sawFile = false
        var filename: String?
        var pending: [ByteBuffer] = []

        func header(_ field: String, _ value: String) {
            guard field.lowercased() == "content-disposition" else { return }
            let parameters = Self.parameters(value)
            if parameters["name"] == "file", let filename = parameters["filename"], !fileDone {
                inFile = true
                sawFile = true
                self.filename = filename
            }
        }

        func partComplete() {
            if inFile { fileDone = true }
            inFile = false
        }

        /// `form-data; name="file"; filename="a.exe"` → ["name": "file", "filename": "a.exe"].
        static func parameters(_ value: String) -> [String: String] {
            var out: [String: String] = [:]
            for part in value.split(separator: ";").dropFirst() {
                let pieces = part.split(separator: "=", maxSplits: 1)
                guard pieces.count == 2 else { continue }
                var text = pieces[1].trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
                out[pieces[0].trimmingCharacters(in: .whitespaces).lowercased()] = text.replacingOccurrences(of: "\\\"", with: "\"")
            }
            return out
        }
    }
}
