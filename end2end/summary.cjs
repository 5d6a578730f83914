// Prints the one plain line run.sh and cluster.sh end with: "<label>: N passed, N failed",
// read from Playwright's JSON report (a missing or unreadable report counts as a failure).
const fs = require('fs');
const label = process.argv[2] || 'E2E';
let passed = 0, failed = 0;
try {
  const r = JSON.parse(fs.readFileSync('.tmp/results.json', 'utf8'));
  passed = r.stats.expected;
  failed = r.stats.unexpected + r.stats.flaky;
} catch (e) {
  failed = 1;
}
console.log(`${label}: ${passed} passed, ${failed} failed`);
