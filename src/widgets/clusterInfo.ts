/**
 * ClusterInfo: the live scheduler summary and workers table of a kernel-side
 * Client or cluster. The model keeps the rows keyed by address and applies the
 * kernel's deltas; the view draws them with the panel's `ClusterTables`.
 */
import {
  DOMWidgetModel,
  DOMWidgetView,
  ISerializers
} from '@jupyter-widgets/base';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { BinaryData, decodeWorkerRows } from './arrow';
import { ICluster, IWorkerRow } from '../schema';
import { ClusterTables } from '../table';
import { ClusterCraftModel } from './base';

export const CLASS = { clusterInfo: 'jp-ClusterCraft-clusterInfo' };

/** The cluster object without its workers, as the kernel sends it. */
export type ClusterSummary = Omit<ICluster, 'workers'>;

/** A message from the kernel: the whole table, or what changed. */
export interface IClusterInfoMessage {
  type: 'snapshot' | 'delta';
  summary?: ClusterSummary;
  /** Addresses of the workers that left. */
  removed?: string[];
}

/** Rows as saved in notebook state (JSON) or sent by the kernel (Arrow). */
function deserializeRows(
  value: BinaryData | IWorkerRow[] | null
): IWorkerRow[] {
  if (!value) {
    return [];
  }
  return Array.isArray(value) ? value : decodeWorkerRows(value);
}

export class ClusterInfoModel extends ClusterCraftModel {
  defaults(): any {
    return {
      ...super.defaults(),
      _model_name: 'ClusterInfoModel',
      _view_name: 'ClusterInfoView',
      summary: {},
      rows: []
    };
  }

  static serializers: ISerializers = {
    ...DOMWidgetModel.serializers,
    rows: {
      deserialize: deserializeRows,
      // Saved notebook state holds the current rows as JSON.
      serialize: (rows: IWorkerRow[]) => rows
    }
  };

  initialize(attributes: any, options: any): void {
    super.initialize(attributes, options);
    // Set here, not as field initializers: Backbone calls initialize() from its constructor.
    this.workers = new Map();
    this._views = 0;
    this._paused = false;
    this.reset(this.get('summary'), this.get('rows') ?? []);
    this.on('msg:custom', this.apply, this);
    // The state we were made with may be old (a reloaded page): ask for now.
    if (this.comm) {
      this.send({ type: 'snapshot' }, {});
    }
  }

  /** The workers by address, in arrival order. */
  workers!: Map<string, IWorkerRow>;
  summary!: ClusterSummary;

  /** The cluster object `ClusterTables.update` draws. */
  get cluster(): ICluster {
    return { ...this.summary, workers: [...this.workers.values()] };
  }

  /** Apply a snapshot or delta message with its Arrow buffer of rows. */
  apply(message: IClusterInfoMessage, buffers?: BinaryData[]): void {
    if (message.type === 'snapshot') {
      this.workers.clear();
    }
    for (const address of message.removed ?? []) {
      this.workers.delete(address);
    }
    if (buffers && buffers.length > 0) {
      for (const row of decodeWorkerRows(buffers[0])) {
        this.workers.set(row.address, row);
      }
    }
    if (message.summary) {
      this.summary = message.summary;
    }
    this.trigger('cluster:changed');
  }

  /** Saved state (notebook widget state) is the current table, not the first. */
  get_state(drop_defaults?: boolean): any {
    const state = super.get_state(drop_defaults);
    return {
      ...state,
      summary: this.summary,
      rows: [...this.workers.values()]
    };
  }

  /** Count the views shown; the kernel pauses its updates while there are none. */
  viewShown(): void {
    if (this._views++ === 0 && this._paused) {
      this._paused = false;
      this._sendVisible(true);
    }
  }

  viewHidden(): void {
    if (--this._views === 0) {
      this._paused = true;
      this._sendVisible(false);
    }
  }

  private reset(summary: ClusterSummary, rows: IWorkerRow[]): void {
    this.summary = summary ?? ({} as ClusterSummary);
    this.workers.clear();
    for (const row of rows) {
      this.workers.set(row.address, row);
    }
  }

  private _sendVisible(visible: boolean): void {
    if (this.comm_live) {
      this.send({ type: 'visible', visible }, {});
    }
  }

  private _views!: number;
  private _paused!: boolean;
}

const DEFAULT_TRANS = nullTranslator.load('clustercraft');

export class ClusterInfoView extends DOMWidgetView {
  model!: ClusterInfoModel;
  tables!: ClusterTables;

  /** Labels' translations; `clusterInfoView(trans)` supplies the app's. */
  protected get trans(): TranslationBundle {
    return DEFAULT_TRANS;
  }

  render(): void {
    this.el.classList.add(CLASS.clusterInfo);
    this.el.setAttribute('role', 'region');
    this.el.setAttribute('aria-label', this.trans.__('Dask cluster'));
    // No sorting on first draw: the kernel sends rows in natural name order.
    this.tables = new ClusterTables({
      trans: this.trans,
      onResetPeaks: () => this.model.send({ type: 'reset_peaks' }, {})
    });
    this.el.appendChild(this.tables.node);
    this.listenTo(this.model, 'cluster:changed', this.draw);
    this.model.viewShown();
    this.draw();
  }

  draw(): void {
    this.tables.update(this.model.cluster);
  }

  remove(): any {
    this.model.viewHidden();
    this.tables.dispose();
    return super.remove();
  }
}

/** The view class with the app's translations. */
export function clusterInfoView(
  trans: TranslationBundle
): typeof ClusterInfoView {
  return class extends ClusterInfoView {
    protected get trans(): TranslationBundle {
      return trans;
    }
  };
}
