/**
 * The profile_partitions report: live progress (partition i of n, the probe
 * worker's memory), then a table per partition, worker peak against partition
 * size with the fitted line and the limit, and the recommended cluster with
 * the peak report's "Launch recommended cluster" and "Copy as code".
 */
import { formatBytes, formatSeconds } from '../format';
import { profileChart } from './chart';
import {
  CLASS as PEAK_CLASS,
  IRecommendation,
  PeakReportModel,
  PeakReportView
} from './peakReport';
import { IWidgetServices } from './services';

export const CLASS = {
  report: 'jp-ClusterCraft-profileReport',
  table: 'jp-ClusterCraft-profileReport-table'
};

type Row = Record<string, string | number | null>;

/** ProfileReport.to_dict() of clustercraft/sizing/report.py. */
export interface IProfileReport {
  partitions: Row[];
  columns: string[];
  worker_base: number;
  model: { column: string; base: number; per_unit: number; source: string };
  largest: Row & {
    label: string | number;
    predicted_peak: number;
    profiled: boolean;
  };
  recommendation: IRecommendation | null;
  warnings: string[];
  method: 'hwm' | 'sampled';
  cost: Record<string, number>;
  n_partitions: number;
}

/** Figures of a profile still running. */
export interface IProfileLive {
  running: boolean;
  partition?: number;
  of?: number;
  label?: string;
  current?: number;
  peak?: number;
}

const BYTE_COLUMNS = new Set(['memory', 'bytes', 'loaded', 'peak']);

/** The report's model: the peak report's, with its own names and no timeline. */
export class ProfileReportModel extends PeakReportModel {
  defaults(): any {
    return {
      ...super.defaults(),
      _model_name: 'ProfileReportModel',
      _view_name: 'ProfileReportView'
    };
  }

  get profile(): IProfileReport | null {
    const report = this.get('report') as IProfileReport;
    return report && Array.isArray(report.partitions) ? report : null;
  }
}

export class ProfileReportView extends PeakReportView {
  model!: ProfileReportModel;

  render(): void {
    super.render();
    this.el.classList.add(CLASS.report);
    this.el.setAttribute(
      'aria-label',
      this.services.trans.__('Partition profile report')
    );
  }

  draw(): void {
    const live = this.model.get('live') as IProfileLive;
    const report = this.model.profile;
    this.el.replaceChildren();
    if (live?.running || !report) {
      this.el.appendChild(this.progress(live ?? { running: true }));
      return;
    }
    const trans = this.services.trans;
    const title = document.createElement('strong');
    title.textContent = trans.__(
      'Profile of %1 of %2 partitions, each in a probe worker (%3)',
      report.partitions.length,
      report.n_partitions,
      report.method === 'hwm'
        ? trans.__('exact peaks')
        : trans.__('sampled peaks')
    );
    const body = document.createElement('div');
    body.className = PEAK_CLASS.body;
    const { model, largest } = report;
    body.append(
      this.figureTable([
        [trans.__('Worker base'), formatBytes(report.worker_base)],
        [
          trans.__('Largest need'),
          trans.__(
            '%1 on %2 (%3)',
            formatBytes(largest.predicted_peak),
            String(largest.label),
            largest.profiled ? trans.__('measured') : trans.__('predicted')
          )
        ],
        [
          trans.__('Cost'),
          trans.__(
            '%1 in all; the partitions’ own runs %2',
            formatSeconds(report.cost.total ?? 0),
            formatSeconds(report.cost.runs ?? 0)
          )
        ]
      ]),
      profileChart(
        {
          points: report.partitions.map(row => ({
            x: Number(row[model.column]),
            y: Number(row.peak)
          })),
          base: model.base,
          perUnit: model.per_unit,
          xMax: Number(largest[model.column] ?? 0),
          xLabel: model.column,
          limit: report.recommendation?.memory_limit ?? null
        },
        trans
      ) as unknown as HTMLElement
    );
    this.el.append(title, this.partitionTable(report), body);
    if (report.recommendation) {
      this.el.append(...this.recommendation(report.recommendation));
    }
    if (report.warnings?.length) {
      const list = document.createElement('ul');
      list.className = PEAK_CLASS.warnings;
      list.setAttribute('aria-label', trans.__('Warnings'));
      for (const warning of report.warnings) {
        list.appendChild(document.createElement('li')).textContent = warning;
      }
      this.el.appendChild(list);
    }
  }

  progress(live: IProfileLive): HTMLElement {
    const node = document.createElement('div');
    node.className = PEAK_CLASS.live;
    node.setAttribute('role', 'status');
    node.setAttribute('aria-live', 'polite');
    const trans = this.services.trans;
    node.textContent =
      live.partition === undefined
        ? trans.__('Profiling partitions in a probe worker…')
        : trans.__(
            'Profiling partition %1 of %2 (%3) in a probe worker… now %4, peak %5',
            live.partition,
            live.of ?? '?',
            live.label ?? '',
            formatBytes(live.current),
            formatBytes(live.peak)
          );
    return node;
  }

  partitionTable(report: IProfileReport): HTMLTableElement {
    const trans = this.services.trans;
    const headings: Record<string, string> = {
      label: trans.__('Partition'),
      rows: trans.__('Rows'),
      nested_rows: trans.__('Nested rows'),
      memory: trans.__('Memory (estimated)'),
      bytes: trans.__('Bytes'),
      loaded: trans.__('Loaded (measured)'),
      peak: trans.__('Worker peak'),
      duration: trans.__('Duration')
    };
    const table = document.createElement('table');
    table.className = CLASS.table;
    table.setAttribute('aria-label', trans.__('Profiled partitions'));
    const head = table.createTHead().insertRow();
    for (const column of report.columns) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = headings[column] ?? column;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const row of report.partitions) {
      const tr = body.insertRow();
      for (const column of report.columns) {
        const value = row[column];
        tr.insertCell().textContent =
          typeof value !== 'number'
            ? String(value ?? '')
            : BYTE_COLUMNS.has(column)
              ? formatBytes(value)
              : column === 'duration'
                ? formatSeconds(value)
                : value.toLocaleString('en-US');
      }
    }
    return table;
  }
}

/** The view class wired to JupyterLab through `services`. */
export function profileReportView(
  services: IWidgetServices
): typeof ProfileReportView {
  return class extends ProfileReportView {
    protected get services(): IWidgetServices {
      return services;
    }
  };
}
