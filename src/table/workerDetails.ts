/**
 * The details of one worker, as a row under its own: everything the table
 * has about it, including the columns a narrow table leaves out.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { formatAge, formatBytes, formatPercent } from '../format';
import { IWorkerRow } from '../schema';
import { AddressText } from './address';
import { peakShare } from './columns';
import { memoryBreakdown } from './memoryBar';

export const CLASS = {
  row: 'jp-ClusterCraft-workerDetails',
  list: 'jp-ClusterCraft-workerDetailsList'
};

interface IField {
  label: string;
  /** The value's text; '' hides the field. */
  text?: (row: IWorkerRow, now: number) => string;
  /** Shown as an address with a copy button instead. */
  address?: {
    value: (row: IWorkerRow) => string | null;
    copyLabel: string;
    link: boolean;
  };
}

interface IFieldView {
  dt: HTMLElement;
  dd: HTMLElement;
  text: string;
  address: AddressText | null;
}

export class WorkerDetails {
  constructor(options: { id: string; trans?: TranslationBundle }) {
    const trans = options.trans ?? nullTranslator.load('clustercraft');
    this._fields = [
      {
        label: trans.__('Address'),
        address: {
          value: row => row.address,
          copyLabel: trans.__('Copy the worker address'),
          link: false
        }
      },
      { label: trans.__('Status'), text: row => row.status },
      { label: trans.__('Threads'), text: row => String(row.nthreads) },
      {
        label: trans.__('Memory'),
        text: row => formatBytes(row.memory_limit)
      },
      {
        label: trans.__('Memory use'),
        text: row => memoryBreakdown(row, trans)
      },
      {
        label: trans.__('Peak'),
        text: row => {
          if (!row.memory_peak) {
            return trans.__('not reported');
          }
          const share = peakShare(row, trans);
          const peak = formatBytes(row.memory_peak);
          return share ? trans.__('%1, %2', peak, share) : peak;
        }
      },
      { label: trans.__('CPU'), text: row => formatPercent(row.cpu) },
      {
        label: trans.__('Last seen'),
        text: (row, now) => formatAge(row.last_seen, now)
      },
      { label: trans.__('Nanny'), text: row => row.nanny ?? '' },
      {
        label: trans.__('Local directory'),
        text: row => row.local_directory ?? ''
      },
      {
        label: trans.__('Worker dashboard'),
        address: {
          value: row => row.dashboard,
          copyLabel: trans.__('Copy the worker dashboard address'),
          link: true
        }
      }
    ];
    this.node = document.createElement('tr');
    this.node.className = CLASS.row;
    this.node.id = options.id;
    this._cell = this.node.insertCell();
    const list = document.createElement('dl');
    list.className = CLASS.list;
    this._cell.appendChild(list);
    this._views = this._fields.map(field => {
      const dt = document.createElement('dt');
      dt.textContent = field.label;
      const dd = document.createElement('dd');
      let address: AddressText | null = null;
      if (field.address) {
        address = new AddressText({ trans, ...field.address });
        dd.appendChild(address.node);
      }
      list.append(dt, dd);
      return { dt, dd, text: '\0', address };
    });
  }

  /** The `<tr>`, placed by the table under the worker's row. */
  readonly node: HTMLTableRowElement;

  /** The worker shown, by address; null before the first update. */
  get address(): string | null {
    return this._address;
  }

  /** Span the columns the table shows. */
  set columns(count: number) {
    if (this._cell.colSpan !== count) {
      this._cell.colSpan = count;
    }
  }

  /** Show `row`'s details; only changed values are written. */
  update(row: IWorkerRow, now: number = Date.now()): void {
    this._address = row.address;
    this._fields.forEach((field, index) => {
      const view = this._views[index];
      const text = field.address
        ? (field.address.value(row) ?? '')
        : field.text!(row, now);
      if (text === view.text) {
        return;
      }
      view.text = text;
      view.dt.hidden = view.dd.hidden = !text;
      if (view.address) {
        view.address.update(text);
      } else {
        view.dd.textContent = text;
      }
    });
  }

  private _fields: IField[];
  private _views: IFieldView[];
  private _cell: HTMLTableCellElement;
  private _address: string | null = null;
}
