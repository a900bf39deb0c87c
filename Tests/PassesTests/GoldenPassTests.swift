import GraphIR
import Passes
import Testing

/// IR text in, IR text out, one pass at a time: every case of `Golden/PASS.gir` runs through that
/// pass alone, and its printed result must satisfy the case's CHECK lines and its remarks the
/// REMARK lines (see `Directive`). Cases marked UNCHANGED are inputs the pass must leave alone.
@Suite struct GoldenPassTests {
    @Test(arguments: TestGraph.goldenCases())
    func passRewritesAsExpected(_ golden: TestGraph) throws {
        guard let pass = PassRegistry.pass(named: golden.passName) else {
            golden.record("no pass is named '\(golden.passName)'")
            return
        }
        let input = try golden.parse()
        var output = input
        let context = PassContext()
        let changed = try pass.run(&output, context: context)
        let problems = verify(output)
        if !problems.isEmpty {
            golden.record("\(pass.name) broke the graph:\n\(problems.map(\.description).joined(separator: "\n"))\n\(printGraph(output))")
            return
        }
        let printed = printGraph(output)
        // What the pass prints reads back to the same text.
        let reread = try parseGraph(printed, path: "\(golden.fileName) after \(pass.name)")
        #expect(printGraph(reread) == printed, "the output does not round-trip: \(golden.testDescription)")
        if changed == (printed == golden.text) {
            golden.record("\(pass.name) returned changed=\(changed), but the IR \(changed ? "did not change" : "changed"):\n\(printed)")
        }
        if golden.has(.unchanged) {
            if printed != golden.text { golden.record("\(pass.name) must leave this graph alone, but it made:\n\(printed)") }
        } else if !golden.directives.contains(where: { $0.kind == .check || $0.kind == .checkNext }) {
            golden.record("a case that is not UNCHANGED needs CHECK lines")
        }
        golden.expectDirectives(output: printed, remarks: context.remarks)
    }

    @Test func everyPassOfThePipelineHasAGoldenFile() {
        let files = Set(TestPaths.girFiles(in: TestPaths.golden).map { $0.deletingPathExtension().lastPathComponent })
        for name in PassPipeline.standard(fuse: true).passNames {
            #expect(files.contains(name), "Golden/\(name).gir is missing")
        }
        #expect(Set(PassRegistry.all.map(\.name)) == Set(PassPipeline.standard(fuse: true).passNames))
    }

    @Test func everyGoldenFileHasCasesToRewriteAndCasesToLeaveAlone() {
        for file in TestPaths.girFiles(in: TestPaths.golden) {
            let cases = TestGraph.load(file, split: true)
            #expect(cases.contains { !$0.has(.unchanged) }, "\(file.lastPathComponent) has no case the pass rewrites")
            #expect(cases.contains { $0.has(.unchanged) }, "\(file.lastPathComponent) has no case the pass must leave alone")
        }
    }
}
