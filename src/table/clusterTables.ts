/**
 * The one table renderer: the scheduler summary, the verdict on the run and
 * the workers table of a cluster. It knows nothing of the panel or the server,
 * so the inline widget reuses it as is.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ICluster } from '../schema';
import { IWorkerSort } from './sort';
import { SummaryTable } from './summaryTable';
import { VerdictLine } from './verdictLine';
import { WorkersTable } from './workersTable';

export const CLASS = {
  tables: 'jp-ClusterCraft-tables',
  workersScroller: 'jp-ClusterCraft-workersScroller'
};

export class ClusterTables extends Widget {
  constructor(options: ClusterTables.IOptions = {}) {
    super();
    this.addClass(CLASS.tables);
    const trans = options.trans ?? nullTranslator.load('clustercraft');
    this.summary = new SummaryTable({ trans });
    this.verdict = new VerdictLine({
      trans,
      onResetPeaks: options.onResetPeaks
    });
    this.workers = new WorkersTable({
      trans,
      sort:
        options.sort === undefined
          ? { key: 'name', direction: 'ascending' }
          : options.sort
    });
    const scroller = document.createElement('div');
    scroller.className = CLASS.workersScroller;
    scroller.appendChild(this.workers.node);
    this.node.append(this.summary.node, this.verdict.node, scroller);
    // Only the rows in view are in the DOM; redraw them once per frame on scroll or resize.
    this.workers.viewport = scroller;
    const refresh = () => {
      if (this._refreshFrame === 0) {
        this._refreshFrame = requestAnimationFrame(() => {
          this._refreshFrame = 0;
          this.workers.refresh();
        });
      }
    };
    scroller.addEventListener('scroll', refresh, { passive: true });
    if (typeof ResizeObserver !== 'undefined') {
      // Columns are chosen before the frame is painted, so a narrow table never shows clipped.
      this._resizeObserver = new ResizeObserver(() => {
        this.workers.setWidth(scroller.clientWidth);
        refresh();
      });
      this._resizeObserver.observe(scroller);
    }
  }

  dispose(): void {
    this._resizeObserver?.disconnect();
    if (this._refreshFrame) {
      cancelAnimationFrame(this._refreshFrame);
    }
    super.dispose();
  }

  readonly summary: SummaryTable;
  readonly verdict: VerdictLine;
  readonly workers: WorkersTable;

  /** The cluster last shown. */
  get cluster(): ICluster | null {
    return this._cluster;
  }

  /**
   * Draw both tables for `cluster` now. Without a cluster, schedule a redraw
   * of the last one (refreshes the ages), as `Widget.update()` does.
   */
  update(cluster?: ICluster): void {
    if (!cluster) {
      super.update();
      return;
    }
    this._cluster = cluster;
    this._render();
  }

  protected onUpdateRequest(msg: Message): void {
    this._render();
  }

  private _render(): void {
    if (!this._cluster) {
      return;
    }
    const now = Date.now();
    this.summary.update(this._cluster, now);
    this.verdict.update(this._cluster);
    this.workers.update(this._cluster.workers ?? [], now);
  }

  private _cluster: ICluster | null = null;
  private _refreshFrame = 0;
  private _resizeObserver: ResizeObserver | null = null;
}

export namespace ClusterTables {
  export interface IOptions {
    trans?: TranslationBundle;
    /** Initial order of the worker rows; by worker name unless given. */
    sort?: IWorkerSort | null;
    /** What "Reset peaks" does; without it the button is not shown. */
    onResetPeaks?: () => void;
  }
}
