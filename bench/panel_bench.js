#!/usr/bin/env node
/**
 * Feed the "Dask clusters" panel a synthetic 1,000-worker update stream in
 * Chromium and print the main-thread time per update (target <= 16 ms, one
 * frame) and the bytes per second of the push (one update a second): the
 * deltas the server sends against the whole cluster object as JSON and Arrow.
 *
 * Each update goes the real way: JSON.parse of the pushed message, the model,
 * the card and the table renderer, then a forced style + layout so the time
 * includes what the browser must do before it can paint.
 *
 *   node bench/panel_bench.js [--workers 1000] [--updates 60] [--port N]
 *
 * Starts its own JupyterLab (the Galata test config: temporary root, no token).
 */
const { execFileSync, spawn } = require('child_process');
const net = require('net');
const path = require('path');
const { chromium } = require('@playwright/test');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const WORKERS = option('workers', 1000);
const UPDATES = option('updates', 60);

/**
 * The update stream, shaped by the server's own code (bench/push_stream.py):
 * per update, the whole cluster as JSON, the delta the server sends now, and
 * the rows as Arrow for comparison.
 */
function pushStream(share) {
  const out = execFileSync(
    process.env.PYTHON || 'python',
    [
      path.join(__dirname, 'push_stream.py'),
      '--workers',
      String(WORKERS),
      '--updates',
      String(UPDATES),
      '--share',
      String(share)
    ],
    { maxBuffer: 2 ** 31 }
  );
  return out
    .toString()
    .trim()
    .split('\n')
    .map(line => JSON.parse(line));
}

/** A loopback port nobody listens on (other test servers run on this machine). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForLab(url, lab, timeoutMs = 120000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (lab.exitCode !== null) {
      throw new Error(`JupyterLab exited with ${lab.exitCode}`);
    }
    try {
      const response = await fetch(url);
      if (response.ok) {
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`JupyterLab did not start at ${url}`);
}

/** Runs in the page: time each update from JSON text to laid-out DOM. */
async function feed({ messages, sort }) {
  const app = window.jupyterapp;
  const panel = [...app.shell.widgets('left')].find(
    w => w.id === 'clustercraft-clusters'
  );
  // The server has no clusters: only the synthetic stream reaches the model.
  const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
  const times = [];
  for (const message of messages) {
    await frame();
    const start = performance.now();
    const event = JSON.parse(message);
    const parsed = performance.now();
    panel.model.applyEvent(event);
    const workers = panel.card('bench').tables.workers;
    if (sort && workers.sort?.key !== sort.key) {
      workers.sort = sort;
    }
    (window.__phases = window.__phases || []).push([
      parsed - start,
      performance.now() - parsed
    ]);
    // Force style and layout now, so they are counted.
    void panel.node.getBoundingClientRect().height;
    void panel.node.querySelector('tbody').offsetHeight;
    times.push(performance.now() - start);
  }
  const rows = panel.node.querySelectorAll(
    '.jp-ClusterCraft-workersTable tbody tr'
  ).length;
  panel.model.applyEvent({ type: 'removed', id: 'bench' });
  const phases = window.__phases;
  window.__phases = [];
  return { times, rows, phases };
}

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = q =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = x => Math.round(x * 100) / 100;
  return {
    median_ms: round(at(0.5)),
    p95_ms: round(at(0.95)),
    max_ms: round(sorted[sorted.length - 1]),
    within_16ms: `${sorted.filter(t => t <= 16).length}/${sorted.length}`
  };
}

async function main() {
  const PORT = option('port', 0) || (await freePort());
  const lab = spawn(
    'jupyter',
    ['lab', '--config', 'jupyter_server_test_config.py', `--port=${PORT}`],
    { cwd: path.join(ROOT, 'ui-tests'), stdio: 'ignore', detached: true }
  );
  let browser;
  try {
    await waitForLab(`http://127.0.0.1:${PORT}/lab`, lab);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu']
    });
    const page = await browser.newPage({
      viewport: { width: 1400, height: 900 }
    });
    await page.goto(`http://127.0.0.1:${PORT}/lab`);
    await page.waitForFunction(() => window.jupyterapp?.started);
    await page
      .locator('.jp-SideBar.jp-mod-left [title="Dask clusters"]')
      .click();
    await page.locator('#clustercraft-clusters').waitFor();

    // distributed's heartbeat for 1,000 workers is 6 s: a sixth of them report each second.
    const scenarios = [
      ['every worker changes', 1],
      ['a sixth of the workers change (heartbeats at 1,000 workers)', 1 / 6],
      ['10% of workers change', 0.1],
      [
        'every worker changes, sorted by CPU (rows reorder)',
        1,
        { key: 'cpu', direction: 'descending' }
      ]
    ];
    const results = { workers: WORKERS, updates: UPDATES, scenarios: {} };
    for (const [label, share, sort] of scenarios) {
      const stream = pushStream(share);
      const { times, rows, phases } = await page.evaluate(feed, {
        messages: stream.map(m => m.delta),
        sort
      });
      // One update a second: bytes per update are bytes per second.
      const mean = bytes =>
        Math.round(
          stream.slice(1).reduce((sum, m) => sum + bytes(m), 0) /
            (stream.length - 1)
        );
      const full = mean(m => Buffer.byteLength(m.full));
      const delta = mean(m => Buffer.byteLength(m.delta));
      results.scenarios[label] = {
        rows_shown: rows,
        first_render_ms: Math.round(times[0] * 100) / 100,
        per_update: stats(times.slice(1)),
        parse: stats(phases.slice(1).map(p => p[0])),
        script: stats(phases.slice(1).map(p => p[1])),
        bytes_per_second: {
          delta_json: delta,
          whole_cluster_json: full,
          whole_cluster_arrow: mean(m => m.arrow_bytes),
          delta_vs_whole: Math.round((delta / full) * 1000) / 1000
        }
      };
    }
    console.log(JSON.stringify(results, null, 2));
  } finally {
    if (browser) {
      await browser.close();
    }
    if (lab.exitCode === null) {
      process.kill(-lab.pid, 'SIGTERM');
    }
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
