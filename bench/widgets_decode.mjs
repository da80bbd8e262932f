#!/usr/bin/env node
/**
 * Decode time of one ClusterInfo update as JSON and as Arrow, in Node and in
 * Chromium, with the extension's own decoder (lib/arrow.js; run `npm run
 * build:lib` first). Called by bench/bench_widgets.py:
 *
 *   node bench/widgets_decode.mjs <dir with NAME.json / NAME.arrow> [repeat]
 *
 * Prints {NAME: {node_decode_ms: {json, arrow}, chromium_decode_ms: {json, arrow}}}.
 */
import { readFileSync, readdirSync } from 'fs';
import { createRequire } from 'module';
import path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const [dir, repeatArg] = process.argv.slice(2);
const REPEAT = Number(repeatArg || 50);
const ORIGIN = 'http://bench.invalid';
// Not through require.resolve: apache-arrow's exports map hides its .mjs files.
const ARROW_DIR = path.join(ROOT, 'node_modules', 'apache-arrow');
// apache-arrow's browser build and its bare imports, for the page's import map.
const IMPORTS = Object.fromEntries(
  Object.entries({
    'apache-arrow': 'apache-arrow/Arrow.dom.mjs',
    tslib: 'apache-arrow/node_modules/tslib/tslib.es6.mjs',
    flatbuffers: 'flatbuffers/mjs/flatbuffers.js',
    'json-with-bigint': 'json-with-bigint/json-with-bigint.js'
  }).map(([name, file]) => [name, `${ORIGIN}/node_modules/${file}`])
);

const median = xs => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] * 1000) / 1000;
};

/** The extension's decoder as an ES module (lib/ is ESM without a "type" field). */
function decoderSource() {
  return readFileSync(path.join(ROOT, 'lib', 'arrow.js'), 'utf8');
}

async function nodeDecoder() {
  const source = decoderSource().replace(
    "from 'apache-arrow'",
    `from '${pathToFileURL(path.join(ARROW_DIR, 'Arrow.node.mjs'))}'`
  );
  return import(`data:text/javascript,${encodeURIComponent(source)}`);
}

function time(fn, repeat) {
  const times = [];
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times;
}

async function chromiumTimes(files) {
  const { chromium } = require('@playwright/test');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu']
  });
  try {
    const page = await browser.newPage();
    // Serve the decoder and apache-arrow from disk; an import map resolves the bare name.
    await page.route(`${ORIGIN}/**`, route => {
      const url = new URL(route.request().url());
      if (url.pathname === '/') {
        return route.fulfill({
          contentType: 'text/html',
          body: `<script type="importmap">${JSON.stringify({ imports: IMPORTS })}</script>`
        });
      }
      if (url.pathname === '/decoder.mjs') {
        return route.fulfill({
          contentType: 'text/javascript',
          body: decoderSource()
        });
      }
      const file = path.join(
        ROOT,
        'node_modules',
        url.pathname.replace(/^\/node_modules\//, '')
      );
      return route.fulfill({
        contentType: 'text/javascript',
        body: readFileSync(file)
      });
    });
    await page.goto(`${ORIGIN}/`);
    return await page.evaluate(
      async ({ files, repeat }) => {
        const { decodeWorkerRows } = await import('/decoder.mjs');
        const out = {};
        for (const [name, { json, arrow }] of Object.entries(files)) {
          const bytes = Uint8Array.from(arrow);
          const times = fn => {
            const t = [];
            for (let i = 0; i < repeat; i++) {
              const s = performance.now();
              fn();
              t.push(performance.now() - s);
            }
            return t;
          };
          out[name] = {
            json: times(() => JSON.parse(json)),
            arrow: times(() => decodeWorkerRows(bytes))
          };
        }
        return out;
      },
      { files, repeat: REPEAT }
    );
  } finally {
    await browser.close();
  }
}

const { decodeWorkerRows } = await nodeDecoder();
const files = {};
for (const name of new Set(readdirSync(dir).map(f => f.split('.')[0]))) {
  files[name] = {
    json: readFileSync(path.join(dir, `${name}.json`), 'utf8'),
    arrow: [...readFileSync(path.join(dir, `${name}.arrow`))]
  };
}
const result = {};
for (const [name, { json, arrow }] of Object.entries(files)) {
  const bytes = Uint8Array.from(arrow);
  const expected = JSON.parse(json).rows;
  const decoded = decodeWorkerRows(bytes);
  if (JSON.stringify(decoded) !== JSON.stringify(expected)) {
    throw new Error(`${name}: Arrow and JSON rows differ`);
  }
  result[name] = {
    node_decode_ms: {
      json: median(time(() => JSON.parse(json), REPEAT)),
      arrow: median(time(() => decodeWorkerRows(bytes), REPEAT))
    }
  };
}
const browserTimes = await chromiumTimes(files);
for (const [name, t] of Object.entries(browserTimes)) {
  result[name].chromium_decode_ms = {
    json: median(t.json),
    arrow: median(t.arrow)
  };
}
console.log(JSON.stringify(result));
