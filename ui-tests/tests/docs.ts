import * as path from 'path';

/**
 * Where the tests save the screenshots they take: `docs/` (the README's) with
 * UPDATE_DOCS=1, else beside the test results, so a test run leaves the clone
 * as it found it.
 */
export const DOCS = process.env.UPDATE_DOCS
  ? path.resolve(__dirname, '..', '..', 'docs')
  : path.resolve(__dirname, '..', 'test-results', 'screenshots');
