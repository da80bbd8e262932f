#!/usr/bin/env node
/**
 * Headless Chromium for bench/bench_dashboard.py: one JSON command per stdin line, one JSON
 * answer per stdout line.
 *
 *   {"cmd": "paint", "url": U, "login": L}  load U in a fresh context (cold cache) after
 *        visiting L (sets Jupyter's login cookie, not timed); answer first-paint and
 *        first-contentful-paint (ms from navigation start, Paint Timing API), when the first
 *        Bokeh <canvas> was drawn, and the page's transferred bytes.
 *   {"cmd": "watch", "url": U, "login": L}  load U and wait for its plot, then count the bytes
 *        of every WebSocket frame and HTTP response until "stop"; answers {"ready": true}.
 *   {"cmd": "stop"}  answer {bytes, frames, seconds} counted since "watch".
 *   {"cmd": "quit"}
 *
 * Chromium: $CHROMIUM or /usr/bin/chromium; playwright-core from node_modules.
 */
const readline = require('readline');
const { chromium } = require('playwright-core');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
];
const TIMEOUT = 60000;

// In the page: resolve with performance.now() once a Bokeh canvas (inside its open shadow
// roots) has a size, checked every animation frame.
const CANVAS_DRAWN = () =>
  new Promise(resolve => {
    const find = root => {
      for (const element of root.querySelectorAll('*')) {
        if (
          element.tagName === 'CANVAS' &&
          element.width > 0 &&
          element.height > 0
        ) {
          return true;
        }
        if (element.shadowRoot && find(element.shadowRoot)) {
          return true;
        }
      }
      return false;
    };
    const check = () =>
      find(document)
        ? resolve(performance.now())
        : requestAnimationFrame(check);
    check();
  });

async function openPage(browser, url, login) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (login) {
    await page.goto(login);
  }
  return { context, page };
}

async function paint(browser, { url, login }) {
  const { context, page } = await openPage(browser, url, login);
  try {
    const response = await page.goto(url, {
      waitUntil: 'commit',
      timeout: TIMEOUT
    });
    const canvas = await page.evaluate(CANVAS_DRAWN);
    const timing = await page.evaluate(async () => {
      // Paint entries come with the frame's presentation, after the canvas was found.
      const paints = await new Promise(resolve => {
        const seen = {};
        const observer = new PerformanceObserver(list => {
          list.getEntries().forEach(e => (seen[e.name] = e.startTime));
          if ('first-contentful-paint' in seen) {
            observer.disconnect();
            resolve(seen);
          }
        });
        observer.observe({ type: 'paint', buffered: true });
        setTimeout(() => resolve(seen), 5000);
      });
      const resources = performance.getEntriesByType('resource');
      const navigation = performance.getEntriesByType('navigation')[0];
      const bytes =
        resources.reduce((sum, e) => sum + e.transferSize, 0) +
        (navigation?.transferSize ?? 0);
      return { ...paints, bytes, resources: resources.length };
    });
    return {
      status: response.status(),
      fp: timing['first-paint'] ?? null,
      fcp: timing['first-contentful-paint'] ?? null,
      canvas,
      bytes: timing.bytes,
      resources: timing.resources
    };
  } finally {
    await context.close();
  }
}

let watching = null;

async function watch(browser, { url, login }) {
  const { context, page } = await openPage(browser, url, login);
  const counts = { bytes: 0, frames: 0, started: 0 };
  const size = payload =>
    typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  page.on('websocket', ws => {
    ws.on('framereceived', frame => {
      if (counts.started) {
        counts.bytes += size(frame.payload);
        counts.frames += 1;
      }
    });
    ws.on('framesent', frame => {
      if (counts.started) {
        counts.bytes += size(frame.payload);
        counts.frames += 1;
      }
    });
  });
  page.on('response', async response => {
    if (counts.started) {
      const body = await response.body().catch(() => Buffer.alloc(0));
      counts.bytes += body.length;
    }
  });
  await page.goto(url, { timeout: TIMEOUT });
  await page.evaluate(CANVAS_DRAWN);
  counts.started = Date.now();
  watching = { context, counts };
  return { ready: true };
}

async function stop() {
  const { context, counts } = watching;
  watching = null;
  const seconds = (Date.now() - counts.started) / 1000;
  await context.close();
  return { bytes: counts.bytes, frames: counts.frames, seconds };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ARGS
  });
  const commands = { paint, watch, stop };
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const command = JSON.parse(line);
    if (command.cmd === 'quit') {
      break;
    }
    try {
      const answer = await commands[command.cmd](browser, command);
      process.stdout.write(JSON.stringify(answer) + '\n');
    } catch (error) {
      process.stdout.write(JSON.stringify({ error: String(error) }) + '\n');
    }
  }
  await browser.close();
  process.exit(0); // stdin stays open otherwise
})().catch(error => {
  console.error(error);
  process.exit(1);
});
