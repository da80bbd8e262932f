/**
 * Test helpers for the inline widgets: the globals apache-arrow needs in jsdom,
 * Arrow buffers made the way pyarrow makes them, a fake comm and manager.
 */
import './text-coding';

import * as arrow from 'apache-arrow';

import { IWorkerRow, WORKER_FIELDS } from '../schema';

const STRING_FIELDS = new Set([
  'name',
  'address',
  'status',
  'nanny',
  'local_directory',
  'dashboard',
  'job_id',
  'job_state'
]);
const FLOAT_FIELDS = new Set(['cpu', 'last_seen']);

/** Worker rows as an Arrow IPC stream with clustercraft/schema.py's types. */
export function workerRowsIPC(rows: IWorkerRow[]): Uint8Array {
  const columns: Record<string, any> = {};
  for (const field of WORKER_FIELDS) {
    const values = rows.map(row => row[field]);
    columns[field] = STRING_FIELDS.has(field)
      ? arrow.vectorFromArray(values, new arrow.Utf8())
      : field === 'ran_tasks'
        ? arrow.vectorFromArray(values, new arrow.Bool())
        : FLOAT_FIELDS.has(field)
          ? arrow.makeVector(Float64Array.from(values as number[]))
          : arrow.makeVector(
              BigInt64Array.from(values as number[], v => BigInt(v))
            );
  }
  return arrow.tableToIPC(new arrow.Table(columns), 'stream');
}

/** A (t, rss) timeline as the kernel sends it. */
export function timelineIPC(t: number[], rss: number[]): Uint8Array {
  const table = new arrow.Table({
    t: arrow.makeVector(Float64Array.from(t)),
    rss: arrow.makeVector(BigInt64Array.from(rss, v => BigInt(v)))
  });
  return arrow.tableToIPC(table, 'stream');
}

/** A comm whose sends are recorded and whose incoming messages tests push. */
export class FakeComm {
  comm_id = 'comm-1';
  target_name = 'jupyter.widget';
  sent: { data: any; buffers?: any[] }[] = [];
  private _onMsg: ((msg: any) => void) | null = null;

  send(data: any, callbacks?: any, metadata?: any, buffers?: any[]): string {
    this.sent.push({ data, buffers });
    return 'msg-id';
  }
  on_msg(callback: (msg: any) => void): void {
    this._onMsg = callback;
  }
  on_close(): void {
    // nothing to do
  }
  close(): string {
    return 'msg-id';
  }
  open(): string {
    return 'msg-id';
  }
  /** A custom message from the kernel, buffers as DataViews as the manager hands them. */
  receive(content: any, buffers: Uint8Array[] = []): Promise<void> {
    return this._onMsg!({
      content: { data: { method: 'custom', content } },
      buffers: buffers.map(
        b => new DataView(b.buffer, b.byteOffset, b.byteLength)
      )
    }) as any;
  }
}

export const fakeManager: any = {
  callbacks: () => ({}),
  resolveUrl: (url: string) => Promise.resolve(url)
};

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
