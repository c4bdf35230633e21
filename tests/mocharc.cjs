module.exports = {
  'node-option': ['import=tsx', 'conditions=source'],
  spec: ['packages/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'tests/**/*.test.ts'],
  require: ['tests/support/global-fixture.ts'],
  reporter: 'tests/support/summary-reporter.cjs',
  timeout: 20000,
  exit: true,
};
