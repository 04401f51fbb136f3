import FileCopy
import HVProtocol
import ICFramework
import Testing

/// Every file-copy message decoded from bytes laid out by hand (docs/PROTOCOL.md §6.6).
@Suite struct FileCopyWireTests {
    @Test func serviceIdentityAndVersions() {
        #expect(ICServiceID.fcopy.classID == VMBusGUID("34d14be3-dee4-41c8-9ae7-6b174977c192"))
        #expect(ICServiceID.fcopy.instanceID == VMBusGUID("eb765408-105f-49b6-b4aa-c123b64d17d4"))
        #expect(ICServiceID.fcopy.frameworkVersions == [ICVersion(3, 0)])
        #expect(ICServiceID.fcopy.serviceVersions == [ICVersion(1, 1)])
        #expect(ICServiceID(classID: ICServiceID.fcopy.classID) == .fcopy)
        // The other services keep offering framework 3.0 and 1.0.
        #expect(ICServiceID.kvp.frameworkVersions == [ICVersion(3, 0), ICVersion(1, 0)])
    }

    @Test func layoutConstantsMatchTheStructs() {
        #expect(FileCopyLayout.headerSize == 36)
        #expect(FileCopyLayout.fileNameOffset == 36)
        #expect(FileCopyLayout.pathNameOffset == 556)
        #expect(FileCopyLayout.copyFlagsOffset == 1076)
        #expect(FileCopyLayout.fileSizeOffset == 1080)
        #expect(FileCopyLayout.startSize == 1088)
        #expect(FileCopyLayout.writeOffsetOffset == 40)
        #expect(FileCopyLayout.writeSizeOffset == 48)
        #expect(FileCopyLayout.writeDataOffset == 52)
        #expect(FileCopyLayout.writeSize == 6196)
        #expect(HandLaid.start("a", in: "/b").count == 1088)
        #expect(HandLaid.write(offset: 0, data: []).count == 6196)
    }

    @Test func startDecodesEveryField() throws {
        let body = HandLaid.start("report.txt", in: "/srv/in", flags: 0x3, size: 0x0102_0304_0506_0708)
        // Spot checks of the hand layout itself: file_name's 'r' at 36, path_name's '/' at 556,
        // flags at 1076, file_size little-endian at 1080.
        #expect(body[36] == 0x72 && body[37] == 0)
        #expect(body[556] == 0x2F && body[557] == 0)
        #expect(body[1076] == 3)
        #expect(Array(body[1080..<1088]) == [8, 7, 6, 5, 4, 3, 2, 1])
        guard case .start(let start) = try FileCopyMessage.decode(body, names: .utf16) else {
            Issue.record("not a START"); return
        }
        #expect(start == FileCopyStart(fileName: "report.txt", pathName: "/srv/in", copyFlags: 3, fileSize: 0x0102_0304_0506_0708))
        #expect(start.overwrite && start.createPath)
    }

    @Test func startNamesAreStrictUTF16() throws {
        // é (U+00E9), then an astral character as a surrogate pair (U+1F600 = D83D DE00).
        let body = HandLaid.start(file: HandLaid.nameField(units: [0x00E9, 0x002E, 0xD83D, 0xDE00]),
                                  path: HandLaid.nameField("/tmp"), flags: 0, size: 0)
        guard case .start(let start) = try FileCopyMessage.decode(body, names: .utf16) else {
            Issue.record("not a START"); return
        }
        #expect(Array(start.fileName.utf8) == [0xC3, 0xA9, 0x2E, 0xF0, 0x9F, 0x98, 0x80])

        // An unpaired high surrogate, a lone low surrogate: refused, not repaired.
        for units: [UInt16] in [[0x0061, 0xD83D], [0xDE00, 0x0061], [0xD83D, 0x0061]] {
            let bad = HandLaid.start(file: HandLaid.nameField(units: units), path: HandLaid.nameField("/tmp"), flags: 0, size: 0)
            #expect(throws: FileCopyDecodeError.invalidName) { try FileCopyMessage.decode(bad, names: .utf16) }
        }
        // 260 units and no NUL.
        let unterminated = HandLaid.start(file: HandLaid.nameField(units: [UInt16](repeating: 0x41, count: 260), terminate: false),
                                          path: HandLaid.nameField("/tmp"), flags: 0, size: 0)
        #expect(throws: FileCopyDecodeError.unterminatedName) { try FileCopyMessage.decode(unterminated, names: .utf16) }
        // 259 units and the NUL: the longest name.
        let longest = HandLaid.start(file: HandLaid.nameField(units: [UInt16](repeating: 0x41, count: 259)),
                                     path: HandLaid.nameField("/tmp"), flags: 0, size: 0)
        guard case .start(let start259) = try FileCopyMessage.decode(longest, names: .utf16) else {
            Issue.record("not a START"); return
        }
        #expect(start259.fileName.utf8.count == 259)
        // Units after the NUL are not part of the name.
        let afterNul = HandLaid.start(file: HandLaid.nameField(units: [0x61, 0, 0x62]), path: HandLaid.nameField("/t"), flags: 0, size: 0)
        guard case .start(let short) = try FileCopyMessage.decode(afterNul, names: .utf16) else { Issue.record("not a START"); return }
        #expect(short.fileName == "a")
    }

    @Test func kernelDeviceNamesAreUTF8() throws {
        let body = HandLaid.start(file: HandLaid.utf8Field("é😀.txt"), path: HandLaid.utf8Field("/tmp"), flags: 1, size: 5)
        guard case .start(let start) = try FileCopyMessage.decode(body, names: .utf8) else { Issue.record("not a START"); return }
        #expect(start.fileName == "é😀.txt")
        #expect(start.overwrite && !start.createPath)
        var bad = body
        bad[36] = 0xC3  // a lead byte followed by 'x' ... is not UTF-8
        bad[37] = 0x78
        #expect(throws: FileCopyDecodeError.invalidName) { try FileCopyMessage.decode(bad, names: .utf8) }
        var unterminated = body
        for index in 36..<556 { unterminated[index] = 0x41 }
        #expect(throws: FileCopyDecodeError.unterminatedName) { try FileCopyMessage.decode(unterminated, names: .utf8) }
    }

    @Test func writeDecodesFullAndTrimmed() throws {
        let data: [UInt8] = [1, 2, 3, 4, 5]
        let full = HandLaid.write(offset: 6144 * 3, data: data)
        #expect(full.count == 6196)
        #expect(Array(full[40..<48]) == [0x00, 0x48, 0, 0, 0, 0, 0, 0])  // 18432 LE
        #expect(Array(full[48..<52]) == [5, 0, 0, 0])
        #expect(Array(full[52..<57]) == data)
        guard case .write(let chunk) = try FileCopyMessage.decode(full, names: .utf16) else { Issue.record("not a WRITE"); return }
        #expect(chunk.offset == 18432)
        #expect(Array(chunk.data) == data)
        let trimmed = HandLaid.write(offset: 7, data: data, full: false)
        #expect(trimmed.count == 57)
        guard case .write(let small) = try FileCopyMessage.decode(trimmed, names: .utf16) else { Issue.record("not a WRITE"); return }
        #expect(small.offset == 7 && Array(small.data) == data)
        // A full 6144-byte chunk.
        let big = HandLaid.write(offset: 0, data: [UInt8](repeating: 0xEE, count: 6144))
        guard case .write(let whole) = try FileCopyMessage.decode(big, names: .utf16) else { Issue.record("not a WRITE"); return }
        #expect(whole.data.count == 6144)
    }

    @Test func writeSizesAreCheckedAgainstThePacket() {
        // size above DATA_FRAGMENT, even with the bytes there.
        let tooLarge = HandLaid.write(offset: 0, data: [UInt8](repeating: 1, count: 6145))
        #expect(throws: FileCopyDecodeError.chunkTooLarge(size: 6145)) { try FileCopyMessage.decode(tooLarge, names: .utf16) }
        // size larger than the packet carries (Linux would copy heap bytes into the file, F5).
        let past = HandLaid.write(offset: 0, data: [1, 2, 3], size: 100, full: false)
        #expect(throws: FileCopyDecodeError.chunkPastPacket(size: 100, available: 3)) { try FileCopyMessage.decode(past, names: .utf16) }
        // offset + size past off_t.
        let far = HandLaid.write(offset: UInt64(Int64.max), data: [1], full: false)
        #expect(throws: FileCopyDecodeError.offsetOutOfRange(offset: UInt64(Int64.max), size: 1)) { try FileCopyMessage.decode(far, names: .utf16) }
        // Shorter than the WRITE header (52).
        let short = Array(HandLaid.write(offset: 0, data: []).prefix(51))
        #expect(throws: FileCopyDecodeError.truncated(operation: .writeToFile, length: 51, needed: 52)) { try FileCopyMessage.decode(short, names: .utf16) }
    }

    @Test func completeCancelUnknownAndShortBodies() throws {
        #expect(try FileCopyMessage.decode(HandLaid.complete, names: .utf16) == .complete)
        #expect(try FileCopyMessage.decode(HandLaid.cancel, names: .utf16) == .cancel)
        #expect(try FileCopyMessage.decode(HandLaid.header(9), names: .utf16) == .unknown(FileCopyOperation(rawValue: 9)))
        #expect(throws: FileCopyDecodeError.truncated(operation: .complete, length: 35, needed: 36)) {
            try FileCopyMessage.decode(Array(HandLaid.complete.prefix(35)), names: .utf16)
        }
        #expect(throws: FileCopyDecodeError.truncated(operation: nil, length: 3, needed: 36)) { try FileCopyMessage.decode([2, 0, 0], names: .utf16) }
        #expect(throws: FileCopyDecodeError.truncated(operation: .startFileCopy, length: 1087, needed: 1088)) {
            try FileCopyMessage.decode(Array(HandLaid.start("a", in: "/b").prefix(1087)), names: .utf16)
        }
    }

    /// Framework 3.0 only and fcopy 1.1 (hv_fcopy_uio_daemon.c `fcopy_versions`).
    @Test func negotiatesFramework3AndVersion11Only() {
        var endpoint = ICEndpoint(service: FileCopyICService(engine: FileCopyEngine()))
        let request = HandLaid.packet(type: 0, body: HandLaid.negotiate(frameworks: [(1, 0), (3, 0)], services: [(1, 1)]), framework: (0, 0), version: (0, 0))
        let reply = endpoint.process(request).reply ?? []
        #expect(reply.count == request.count)
        #expect(reply[25] == 0x05)
        #expect(Array(reply[28..<32]) == [1, 0, 1, 0])  // counts 1/1
        #expect(Array(reply[36..<44]) == [3, 0, 0, 0, 1, 0, 1, 0])  // framework 3.0, fcopy 1.1
        #expect(endpoint.negotiated == NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(1, 1)))

        var old = ICEndpoint(service: FileCopyICService(engine: FileCopyEngine()))
        let onlyOne = HandLaid.packet(type: 0, body: HandLaid.negotiate(frameworks: [(1, 0)], services: [(1, 1)]), framework: (0, 0), version: (0, 0))
        let refused = old.process(onlyOne).reply ?? []
        #expect(Array(refused[28..<32]) == [0, 0, 0, 0])
        #expect(old.negotiated == nil)
    }

    /// The reply is the whole request with flags 0x05 and the status at P+20; a body shorter than
    /// the fcopy header is answered E_FAIL (Linux's daemon exits without a reply, F9).
    @Test func repliesEchoTheWholePayload() {
        var endpoint = ICEndpoint(service: FileCopyICService(engine: FileCopyEngine()))
        let request = HandLaid.packet(body: HandLaid.complete)
        let reply = endpoint.process(request).reply ?? []
        var expected = request
        expected[25] = 0x05
        #expect(reply == expected)  // idle COMPLETE: S_OK, as Linux

        for length in [0, 1, 4, 35] {
            let short = HandLaid.packet(body: Array(HandLaid.cancel.prefix(length)))
            let answer = endpoint.process(short).reply ?? []
            #expect(answer.count == short.count)
            #expect(Array(answer[20..<24]) == [0x05, 0x40, 0x00, 0x80])  // E_FAIL 0x80004005
        }
        // Still serving: an idle CANCEL is S_OK.
        let cancel = endpoint.process(HandLaid.packet(body: HandLaid.cancel)).reply ?? []
        #expect(Array(cancel[20..<24]) == [0, 0, 0, 0])
        // Another message type on the fcopy channel: E_FAIL.
        let heartbeat = endpoint.process(HandLaid.packet(type: 1, body: [UInt8](repeating: 0, count: 16))).reply ?? []
        #expect(Array(heartbeat[20..<24]) == [0x05, 0x40, 0x00, 0x80])
        // WRITE with nothing open: E_FAIL (F6).
        let write = endpoint.process(HandLaid.packet(body: HandLaid.write(offset: 0, data: [1]))).reply ?? []
        #expect(Array(write[20..<24]) == [0x05, 0x40, 0x00, 0x80])
    }
}
