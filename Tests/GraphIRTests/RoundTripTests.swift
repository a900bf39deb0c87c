import Foundation
import GraphIR
import Testing

@Suite struct RoundTripTests {
    @Test(arguments: try Paths.sampleFiles())
    func samplePrintsBackExactly(_ url: URL) throws {
        let text = try Paths.read(url)
        let graph = try parseGraph(text, path: url.lastPathComponent)
        #expect(verify(graph).isEmpty)
        #expect(printGraph(graph) == text)
    }

    @Test func everyGoldenCasePrintsBackExactly() throws {
        let cases = GoldenCase.split(try Paths.read(Paths.golden.appendingPathComponent("roundtrip.gir")))
        #expect(cases.count >= 8)
        for golden in cases {
            let graph = try parseGraph(golden.text, path: "roundtrip.gir")
            #expect(verify(graph).isEmpty, "case at line \(golden.firstLine)")
            #expect(printGraph(graph) == golden.text, "case at line \(golden.firstLine)")
        }
    }

    @Test func everyOpMnemonicAppearsInTheRoundTripFile() throws {
        let text = try Paths.read(Paths.golden.appendingPathComponent("roundtrip.gir"))
        for mnemonic in Op.mnemonics {
            #expect(text.contains(" \(mnemonic)("), "roundtrip.gir does not exercise '\(mnemonic)'")
        }
    }

    @Test func omittedResultTypesAreInferredAndPrinted() throws {
        let graph = try parseGraph("""
            graph g(%x: f32[2,3]) {
              %y = softmax(%x, axis=-1)
              %z = mul(%y, 2)
              return %z
            }
            """)
        #expect(printGraph(graph) == """
            graph g(%x: f32[2,3]) {
              %y = softmax(%x) : f32[2,3]
              %z = mul(%y, 2.0) : f32[2,3]
              return %z
            }

            """)
    }

    @Test func printedTextOfABuiltGraphParsesBackToTheSameText() throws {
        let b = GraphBuilder("built")
        let x = b.input("x", f32[2, 4])
        let w = b.weight("w", f32[3, 4])
        let y = (x.linear(w) * 0.5).softmax()
        b.output(y, as: "y")
        let text = printGraph(try b.finish())
        #expect(printGraph(try parseGraph(text)) == text)
    }
}
