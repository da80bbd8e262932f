import { readFileSync } from 'fs';

import { dataView, timelineIPC, workerRowsIPC } from './widgets-setup';

import { decodeRows, decodeTimeline, decodeWorkerRows } from '../widgets/arrow';
import { worker } from './fixtures';

describe('Arrow decoding', () => {
  it('decodes worker rows to the objects pyarrow encoded, int64 as numbers', () => {
    const rows = [
      worker(0, { nanny: 'tcp://127.0.0.1:1', memory: 2 ** 40 + 3 }),
      worker(1, { dashboard: 'http://127.0.0.1:8787/status', cpu: 12.5 })
    ];
    const decoded = decodeWorkerRows(workerRowsIPC(rows));
    expect(decoded).toEqual(rows);
    expect(typeof decoded[0].memory).toBe('number');
    expect(decoded[0].local_directory).toBeNull();
  });

  it('accepts a DataView, an ArrayBuffer or bytes', () => {
    const bytes = workerRowsIPC([worker(3)]);
    const buffer = bytes.slice().buffer;
    for (const data of [bytes, dataView(bytes), buffer]) {
      expect(decodeRows(data)).toHaveLength(1);
    }
  });

  it('decodes an empty table and an empty timeline', () => {
    expect(decodeWorkerRows(workerRowsIPC([]))).toEqual([]);
    expect(decodeTimeline(null)).toEqual({ t: [], rss: [] });
  });

  it('decodes a timeline as typed columns', () => {
    const timeline = decodeTimeline(timelineIPC([0, 0.5, 1], [10, 30, 20]));
    expect(Array.from(timeline.t)).toEqual([0, 0.5, 1]);
    expect(Array.from(timeline.rss)).toEqual([10, 30, 20]);
  });
});

describe('Arrow written by pyarrow (clustercraft.kernel.arrow.encode_rows)', () => {
  it('decodes to the rows the kernel encoded', () => {
    const stream = readFileSync(`${__dirname}/data/workers.arrow`);
    const expected = JSON.parse(
      readFileSync(`${__dirname}/data/workers.json`, 'utf8')
    );
    expect(decodeWorkerRows(new Uint8Array(stream))).toEqual(expected);
  });
});
