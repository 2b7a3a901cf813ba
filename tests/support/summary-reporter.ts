import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with one plain line, `tests: N passed, N failed`, that CI reads whatever the runner. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const retried: string[] = [];
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' && (test.diagnostic()?.retryCount ?? 0) > 0)
          retried.push(`${mod.moduleId.replace(process.cwd() + '/', '')} > ${test.fullName}`);
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (mod.state() === 'failed' && !mod.children.size) failed++;
    }
    // a flaky journey must stay visible even when its second try passes
    for (const name of retried) process.stdout.write(`\npassed on a second try: ${name}`);
    const skippedNote = skipped ? `, ${skipped} skipped` : '';
    const retriedNote = retried.length ? `, ${retried.length} of them on a second try` : '';
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skippedNote}${retriedNote}\n`);
  }
}
