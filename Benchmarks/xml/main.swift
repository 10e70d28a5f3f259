// Parses one ListObjectsV2 page of 1,000 objects with both parsers, side by side, best of 7 x 20.
import Foundation
var doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>home/</Prefix><IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken>"
for i in 0..<1000 { doc += "<Contents><Key>home/attachments/PROJ/\(10000 + i)/file-\(i).txt</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>\(i * 37)</Size><StorageClass>STANDARD</StorageClass></Contents>" }
doc += "</ListBucketResult>"
let data = Data(doc.utf8)
func time(_ name: String, _ body: () throws -> Int) rethrows {
    var best = Double.infinity; var n = 0
    for _ in 0..<7 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<20 { n &+= try body() }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 20 / 1e6)
    }
    print("\(name): \(String(format: "%.2f", best)) ms per 1000-object page (\(n))")
}
for _ in 0..<2 {
    try time("Foundation XMLParser") { try OldXMLNode.parse(data).children("Contents").count }
    try time("XMLNode (own parser)") { try XMLNode.parse(data).children("Contents").count }
}
