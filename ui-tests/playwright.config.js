/**
 * Galata end-to-end tests in Debian's Chromium (no browser download here).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const PORT = process.env.CLUSTERCRAFT_UI_PORT || '8899';
// Jupyter Notebook 7 on the next port, for tests/notebook7.spec.ts.
const NOTEBOOK_PORT = String(Number(PORT) + 1);
// Extra arguments for it, e.g. a schemas_dir when notebook is installed apart from JupyterLab.
const NOTEBOOK_ARGS = process.env.CLUSTERCRAFT_NOTEBOOK_ARGS || '';

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 120000,
  expect: { timeout: 30000 },
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'off',
    video: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic'
      ]
    }
  },
  webServer: [
    {
      command: `jupyter lab --config jupyter_server_test_config.py --port=${PORT}`,
      url: `http://127.0.0.1:${PORT}/lab`,
      timeout: 180000,
      reuseExistingServer: false
    },
    {
      command: `jupyter notebook --config jupyter_server_test_config.py --port=${NOTEBOOK_PORT} ${NOTEBOOK_ARGS}`,
      url: `http://127.0.0.1:${NOTEBOOK_PORT}/tree`,
      timeout: 180000,
      reuseExistingServer: false
    }
  ]
};
