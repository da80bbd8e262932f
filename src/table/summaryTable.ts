/**
 * The scheduler summary of a cluster, as in `Client`'s HTML repr.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { formatAge, formatBytes } from '../format';
import { ICluster } from '../schema';
import { AddressText } from './address';

export const CLASS = {
  table: 'jp-ClusterCraft-summaryTable'
};

interface IItem {
  label: string;
  text: (cluster: ICluster, now: number) => string;
  title?: (cluster: ICluster) => string;
  /** Shown as an address with a copy button (a link when `link`). */
  address?: { copyLabel: string; link: boolean };
}

export class SummaryTable {
  constructor(options: { trans?: TranslationBundle } = {}) {
    const trans = options.trans ?? nullTranslator.load('clustercraft');
    this._items = [
      {
        label: trans.__('Scheduler'),
        text: c => c.scheduler_address || '',
        address: {
          copyLabel: trans.__('Copy the scheduler address'),
          link: false
        }
      },
      {
        label: trans.__('Dashboard'),
        text: c => c.dashboard_link || '',
        address: {
          copyLabel: trans.__('Copy the dashboard address'),
          link: true
        }
      },
      { label: trans.__('Workers'), text: c => String(c.n_workers) },
      { label: trans.__('Total threads'), text: c => String(c.total_threads) },
      {
        label: trans.__('Total memory'),
        text: c => formatBytes(c.total_memory)
      },
      {
        label: trans.__('Memory in use'),
        text: c => formatBytes(c.memory_used)
      },
      { label: trans.__('Status'), text: c => statusLabel(c, trans) },
      {
        label: trans.__('Processes'),
        text: c => (c.processes ? trans.__('Yes') : trans.__('No'))
      },
      {
        label: trans.__('Started'),
        // A lost or closed cluster's age would only keep counting up: nothing runs.
        text: (c, now) =>
          c.status === 'lost' || c.status === 'closed'
            ? '–'
            : formatAge(c.started, now),
        title: c =>
          c.started ? new Date(c.started * 1000).toLocaleString() : ''
      }
    ];
    const table = document.createElement('table');
    table.className = CLASS.table;
    table.setAttribute('aria-label', trans.__('Scheduler summary'));
    const body = table.createTBody();
    this._cells = this._items.map(item => {
      const tr = body.insertRow();
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = item.label;
      tr.appendChild(th);
      const td = tr.insertCell();
      if (item.address) {
        const address = new AddressText({ trans, ...item.address });
        td.appendChild(address.node);
        return { td, address };
      }
      return { td, address: null };
    });
    this._texts = this._items.map(() => '');
    this.node = table;
  }

  readonly node: HTMLTableElement;

  /** Show a cluster; only changed values are written. */
  update(cluster: ICluster, now: number = Date.now()): void {
    this._items.forEach((item, index) => {
      const text = item.text(cluster, now);
      const title = item.title?.(cluster) ?? '';
      const key = `${text}\n${title}`;
      if (key === this._texts[index]) {
        return;
      }
      this._texts[index] = key;
      const { td, address } = this._cells[index];
      if (address) {
        address.update(text);
      } else {
        td.textContent = text;
        td.title = title;
      }
    });
  }

  private _items: IItem[];
  private _cells: { td: HTMLTableCellElement; address: AddressText | null }[];
  private _texts: string[];
}

/** A cluster's status, in words. */
export function statusLabel(
  cluster: Pick<ICluster, 'status'>,
  trans: TranslationBundle
): string {
  switch (cluster.status) {
    case 'starting':
      return trans.__('starting');
    case 'running':
      return trans.__('running');
    case 'closing':
      return trans.__('closing');
    case 'lost':
      return trans.__('lost');
    case 'closed':
      return trans.__('closed');
  }
  return cluster.status;
}
