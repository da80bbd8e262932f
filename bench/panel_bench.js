#!/usr/bin/env node
/**
 * Feed the "Dask clusters" panel a synthetic 1,000-worker update stream in
 * Chromium and print the main-thread time per update (target <= 16 ms, one
 * frame) and the bytes per update as JSON and as Arrow IPC.
 *
 * Each update goes the real way: JSON.parse of the pushed message, the model,
 * the card and the table renderer, then a forced style + layout so the time
 * includes what the browser must do before it can paint.
 *
 *   node bench/panel_bench.js [--workers 1000] [--updates 60] [--port N]
 *
 * Starts its own JupyterLab (the Galata test config: temporary root, no token).
 */
const { spawn } = require('child_process');
const net = require('net');
const path = require('path');
const { chromium } = require('@playwright/test');
const { tableFromJSON, tableToIPC } = require('apache-arrow');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const WORKERS = option('workers', 1000);
const UPDATES = option('updates', 60);
const GiB = 2 ** 30;

function workerRows(step, changedShare) {
  const rows = [];
  for (let i = 0; i < WORKERS; i++) {
    // Only `changedShare` of the workers report new values in this step.
    const changed = i % Math.round(1 / changedShare) === 0;
    const t = changed ? step : 0;
    const memory = (0.2 + (0.75 * ((i * 7 + t * 13) % 100)) / 100) * 4 * GiB;
    rows.push({
      name: String(i),
      address: `tcp://10.0.${i >> 8}.${i & 255}:40000`,
      nthreads: 2,
      memory_limit: 4 * GiB,
      memory: Math.round(memory),
      managed_bytes: Math.round(memory * 0.6),
      spilled_bytes: (i + t) % 10 === 0 ? 512 * 2 ** 20 : 0,
      cpu: ((i * 31 + t * 17) % 1000) / 10,
      status: 'running',
      nanny: `tcp://10.0.${i >> 8}.${i & 255}:41000`,
      local_directory: `/tmp/dask-scratch-space/worker-${i}`,
      dashboard: `http://10.0.${i >> 8}.${i & 255}:8787/status`,
      last_seen: 1.7e9 + (changed ? step : 0)
    });
  }
  return rows;
}

function clusterMessage(step, changedShare) {
  const workers = workerRows(step, changedShare);
  const cluster = {
    id: 'bench',
    name: 'bench-1000',
    status: 'running',
    scheduler_address: 'tcp://10.0.0.1:8786',
    dashboard_link: 'http://10.0.0.1:8787/status',
    n_workers: WORKERS,
    requested_workers: WORKERS,
    total_threads: 2 * WORKERS,
    total_memory: 4 * GiB * WORKERS,
    memory_used: workers.reduce((sum, w) => sum + w.memory, 0),
    processes: true,
    adapt: null,
    started: 1.7e9,
    workers
  };
  const json = JSON.stringify({ type: 'cluster', cluster });
  const { workers: _, ...summary } = cluster;
  const arrowBytes =
    tableToIPC(tableFromJSON(workers), 'stream').byteLength +
    Buffer.byteLength(JSON.stringify({ type: 'cluster', cluster: summary }));
  return { json, jsonBytes: Buffer.byteLength(json), arrowBytes };
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
  // Only the synthetic stream from here on.
  panel.model.disconnect();
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

    const scenarios = [
      ['every worker changes', 1],
      ['10% of workers change', 0.1],
      [
        'every worker changes, sorted by CPU (rows reorder)',
        1,
        { key: 'cpu', direction: 'descending' }
      ]
    ];
    const results = { workers: WORKERS, updates: UPDATES, scenarios: {} };
    for (const [label, share, sort] of scenarios) {
      const stream = Array.from({ length: UPDATES + 1 }, (_, step) =>
        clusterMessage(step + 1, share)
      );
      const { times, rows, phases } = await page.evaluate(feed, {
        messages: stream.map(m => m.json),
        sort
      });
      const mean = key =>
        Math.round(stream.reduce((sum, m) => sum + m[key], 0) / stream.length);
      results.scenarios[label] = {
        rows_shown: rows,
        first_render_ms: Math.round(times[0] * 100) / 100,
        per_update: stats(times.slice(1)),
        parse: stats(phases.slice(1).map(p => p[0])),
        script: stats(phases.slice(1).map(p => p[1])),
        bytes_per_update: { json: mean('jsonBytes'), arrow: mean('arrowBytes') }
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
