#!/usr/bin/env node
// Prints the closing line of a CI run, 'Tests: N passed, N failed, N skipped', from vitest's JSON
// report; exits 1 if the report is missing or counted no test at all.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`Tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
process.exit(report.numTotalTests > 0 && report.numFailedTests === 0 ? 0 : 1);
