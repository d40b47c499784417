// The targets stated in the design notes: the suites import them from here; the values live in
// src/targets.ts so the CLI shares them without importing benchmark code.

export * from '../src/targets.js';
