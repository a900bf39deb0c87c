import Testing

/// The FileCheck-like matcher the golden tests rely on: it must find what is there and report
/// what is not, at the directive's line.
@Suite struct CheckMatcherTests {
    private func directives(_ lines: String) -> [Directive] {
        lines.split(separator: "\n").enumerated().compactMap { Directive.parse($0.element, at: $0.offset + 1) }
    }

    private let output = """
        graph g(%x: f32[4]) {
          %a = relu(%x) : f32[4]
          %b = tanh(%a) : f32[4]
          return %b
        }

        """

    @Test func directivesAreRecognisedAndOrdinaryCommentsAreNot() {
        #expect(Directive.parse("// CHECK: %a = relu(%x) : f32[4]", at: 3) == Directive(kind: .check, text: "%a = relu(%x) : f32[4]", line: 3))
        #expect(Directive.parse("  // CHECK-NEXT: return %b", at: 1)?.kind == .checkNext)
        #expect(Directive.parse("// CHECK-NOT: softmax", at: 1) == Directive(kind: .checkNot, text: "softmax", line: 1))
        #expect(Directive.parse("// UNCHANGED", at: 1)?.kind == .unchanged)
        #expect(Directive.parse("// REMARK: fused: attention (dot score)", at: 1)?.text == "fused: attention (dot score)")
        #expect(Directive.parse("// CHECKS that the pass runs", at: 1) == nil)
        #expect(Directive.parse("// The scores, then a CHECK: not a directive", at: 1) == nil)
        #expect(Directive.parse("%a = relu(%x) : f32[4]", at: 1) == nil)
    }

    @Test func matchingLinesInOrderPass() {
        let checks = directives("""
            // CHECK: %a = relu(%x) : f32[4]
            // CHECK-NEXT: %b = tanh(%a) : f32[4]
            // CHECK-NOT: sigmoid
            // CHECK: return %b
            """)
        #expect(matchChecks(checks, against: output).isEmpty)
    }

    @Test func aMissingLineFailsAtItsDirective() {
        let failures = matchChecks(directives("// CHECK: %a = relu(%x) : f32[4]\n// CHECK: %c = exp(%b) : f32[4]"), against: output)
        #expect(failures.map(\.line) == [2])
    }

    @Test func linesOutOfOrderFail() {
        #expect(!matchChecks(directives("// CHECK: return %b\n// CHECK: %a = relu(%x) : f32[4]"), against: output).isEmpty)
    }

    @Test func checkNextRequiresTheVeryNextLine() {
        #expect(!matchChecks(directives("// CHECK: %a = relu(%x) : f32[4]\n// CHECK-NEXT: return %b"), against: output).isEmpty)
    }

    @Test func checkNotLooksOnlyBetweenItsNeighbours() {
        #expect(matchChecks(directives("// CHECK: %b = tanh(%a) : f32[4]\n// CHECK-NOT: relu"), against: output).isEmpty)
        let failures = matchChecks(directives("// CHECK-NOT: relu\n// CHECK: %b = tanh(%a) : f32[4]"), against: output)
        #expect(failures.map(\.line) == [1])
    }

    @Test func remarksMustBeExactlyTheExpectedOnes() {
        let expected = directives("// REMARK: fused: a\n// REMARK: missed: b")
        #expect(matchRemarks(expected, against: ["fused: a", "missed: b"], caseLine: 1).isEmpty)
        #expect(matchRemarks(expected, against: ["fused: a"], caseLine: 1).map(\.line) == [2])
        #expect(matchRemarks(expected, against: ["fused: a", "missed: b", "missed: c"], caseLine: 1).count == 1)
        #expect(matchRemarks([], against: ["fused: a"], caseLine: 7).map(\.line) == [7])
    }
}
