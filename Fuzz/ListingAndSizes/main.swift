// libFuzzer target for the parsers that read what a server or a user sends: S3 listings
// (S3ListPage.parse, then the relative-key and safety checks a sync applies to each key) and
// sizes (ByteSize.parse). Built and run by scripts/fuzz.sh; any trap, overflow or memory error
// is a finding.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let data = Data(bytes: bytes, count: count)
    let text = String(decoding: data, as: UTF8.self)

    if let size = try? ByteSize.parse(text) {
        precondition(size >= 0, "a parsed size is never negative")
        _ = ByteSize.format(size)
    }

    if let page = try? S3ListPage.parse(data, bucket: "fuzz") {
        for object in page.objects {
            precondition(object.size >= 0, "a listed size is never negative")
            for prefix in ["", "p/", "home/"] {
                guard let key = SyncKey.relative(object.key, below: prefix) else { continue }
                if key.unsafeReason == nil && !key.isFolderMarker {
                    // A safe key joined to a root stays below it.
                    let path = URL(fileURLWithPath: "/root/dest/" + key.string).standardized.path
                    precondition(path.hasPrefix("/root/dest/"), "safe key \(key) escaped to \(path)")
                }
            }
        }
    }
    return 0
}
