/**
 * The %%peakmem report: live figures while the cell runs, then the figures,
 * the memory chart, the recommended cluster with its reasoning, and the
 * "Launch recommended cluster" and "Copy as code" buttons.
 */
import {
  DOMWidgetModel,
  DOMWidgetView,
  ISerializers
} from '@jupyter-widgets/base';

import { BinaryData, decodeTimeline, ITimeline } from './arrow';
import { formatBytes, formatSeconds } from '../format';
import { clientCode } from '../code';
import { ICluster, IClusterRequest } from '../schema';
import { peakChart } from './chart';
import { defaultServices, IWidgetServices } from './services';
import { ClusterCraftModel } from './base';

export const CLASS = {
  report: 'jp-ClusterCraft-peakReport',
  live: 'jp-ClusterCraft-peakReport-live',
  figures: 'jp-ClusterCraft-peakReport-figures',
  body: 'jp-ClusterCraft-peakReport-body',
  recommendation: 'jp-ClusterCraft-peakReport-recommendation',
  rationale: 'jp-ClusterCraft-peakReport-rationale',
  warnings: 'jp-ClusterCraft-peakReport-warnings',
  error: 'jp-ClusterCraft-peakReport-error',
  actions: 'jp-ClusterCraft-peakReport-actions',
  button: 'jp-ClusterCraft-button',
  status: 'jp-ClusterCraft-peakReport-status'
};

/** The recommendation of clustercraft/sizing/recommend.py. */
export interface IRecommendation {
  n_workers: number;
  threads_per_worker: number;
  memory_limit: number;
  /** The server's cluster profile it was sized for; absent: the default. */
  profile?: string | null;
  rationale: string;
  /**
   * The POST body that launches it, built by the kernel for its profile and sent
   * as is; null: one worker does not fit the profile (a warning says why).
   * Absent in reports saved before it existed.
   */
  request?: IClusterRequest | null;
}

/** What Launch sends: the kernel's request, else the recommendation's shape. */
export function launchRequest(
  recommendation: IRecommendation
): IClusterRequest | null {
  if (recommendation.request !== undefined) {
    return recommendation.request;
  }
  return {
    n_workers: recommendation.n_workers,
    threads_per_worker: recommendation.threads_per_worker,
    memory_limit: recommendation.memory_limit,
    // A cluster profile only when the recommendation names one (the server's default else).
    ...(recommendation.profile ? { profile: recommendation.profile } : {})
  };
}

/** PeakReport.to_dict() without its timeline (that comes as Arrow). */
export interface IPeakReport {
  peak: number;
  baseline: number;
  increment: number;
  retained: number;
  duration: number;
  method: 'hwm' | 'sampled';
  children_peak: number;
  recommendation: IRecommendation | null;
  warnings: string[];
  error: string | null;
}

/** Figures of a measurement still running. */
export interface ILiveFigures {
  running: boolean;
  current?: number;
  peak?: number;
  elapsed?: number;
}

const EMPTY_TIMELINE: ITimeline = { t: [], rss: [] };

export class PeakReportModel extends ClusterCraftModel {
  defaults(): any {
    return {
      ...super.defaults(),
      _model_name: 'PeakReportModel',
      _view_name: 'PeakReportView',
      report: {},
      timeline: EMPTY_TIMELINE,
      live: { running: false },
      code: ''
    };
  }

  static serializers: ISerializers = {
    ...DOMWidgetModel.serializers,
    timeline: {
      deserialize: (value: BinaryData | ITimeline | null) =>
        !value
          ? EMPTY_TIMELINE
          : 't' in value && 'rss' in value
            ? (value as ITimeline)
            : decodeTimeline(value as BinaryData),
      // Saved notebook state holds the timeline as JSON.
      serialize: (value: ITimeline) => ({
        t: Array.from(value.t),
        rss: Array.from(value.rss)
      })
    }
  };

  get report(): IPeakReport | null {
    const report = this.get('report') as IPeakReport;
    return report && typeof report.peak === 'number' ? report : null;
  }
}

const DEFAULT_SERVICES = defaultServices();

export class PeakReportView extends DOMWidgetView {
  /** The cluster this report launched, if any: another launch asks first. */
  private _launched: string | null = null;

  model!: PeakReportModel;

  /** JupyterLab's services; `peakReportView(services)` supplies the real ones. */
  protected get services(): IWidgetServices {
    return DEFAULT_SERVICES;
  }

  render(): void {
    this.el.classList.add(CLASS.report);
    this.el.setAttribute('role', 'region');
    this.el.setAttribute(
      'aria-label',
      this.services.trans.__('Peak memory report')
    );
    this.listenTo(
      this.model,
      'change:report change:timeline change:live',
      this.draw
    );
    this.draw();
  }

  draw(): void {
    const live = this.model.get('live') as ILiveFigures;
    const report = this.model.report;
    this.el.replaceChildren();
    if (live?.running || !report) {
      this.el.appendChild(this.liveFigures(live ?? { running: true }));
    } else {
      this.el.append(...this.finalReport(report));
    }
  }

  liveFigures(live: ILiveFigures): HTMLElement {
    const node = document.createElement('div');
    node.className = CLASS.live;
    node.setAttribute('role', 'status');
    node.setAttribute('aria-live', 'polite');
    node.textContent =
      live.current === undefined
        ? this.services.trans.__('Measuring peak memory…')
        : this.services.trans.__(
            'Measuring peak memory… now %1, peak %2, after %3',
            formatBytes(live.current),
            formatBytes(live.peak),
            formatSeconds(live.elapsed ?? 0)
          );
    return node;
  }

  finalReport(report: IPeakReport): HTMLElement[] {
    const nodes: HTMLElement[] = [];
    const title = document.createElement('strong');
    title.textContent =
      report.method === 'hwm'
        ? this.services.trans.__(
            'Peak memory (exact: the high-water mark of the kernel process)'
          )
        : this.services.trans.__(
            'Peak memory (sampled: short spikes between samples can be missed)'
          );
    nodes.push(title);
    if (report.error) {
      const error = document.createElement('p');
      error.className = CLASS.error;
      error.textContent = this.services.trans.__(
        'Stopped by %1; the figures cover the run until then.',
        report.error
      );
      nodes.push(error);
    }
    const body = document.createElement('div');
    body.className = CLASS.body;
    body.append(
      this.figures(report),
      peakChart(
        {
          timeline: this.model.get('timeline') ?? EMPTY_TIMELINE,
          baseline: report.baseline,
          peak: report.peak,
          limit: report.recommendation?.memory_limit ?? null,
          duration: report.duration
        },
        this.services.trans
      ) as unknown as HTMLElement
    );
    nodes.push(body);
    if (report.recommendation) {
      nodes.push(...this.recommendation(report.recommendation));
    }
    if (report.warnings?.length) {
      const list = document.createElement('ul');
      list.className = CLASS.warnings;
      list.setAttribute('aria-label', this.services.trans.__('Warnings'));
      for (const warning of report.warnings) {
        list.appendChild(document.createElement('li')).textContent = warning;
      }
      nodes.push(list);
    }
    return nodes;
  }

  figures(report: IPeakReport): HTMLTableElement {
    const rows: [string, string][] = [
      [this.services.trans.__('Peak'), formatBytes(report.peak)],
      [this.services.trans.__('Increment'), formatBytes(report.increment)],
      [this.services.trans.__('Baseline'), formatBytes(report.baseline)],
      [this.services.trans.__('Retained'), formatBytes(report.retained)],
      [
        this.services.trans.__('Children peak'),
        report.children_peak
          ? formatBytes(report.children_peak)
          : this.services.trans.__('none')
      ],
      [this.services.trans.__('Duration'), formatSeconds(report.duration)]
    ];
    const table = this.figureTable(rows);
    table.setAttribute(
      'aria-label',
      this.services.trans.__('Peak memory figures')
    );
    return table;
  }

  /** A table of (label, value) rows, the labels as row headers. */
  figureTable(rows: [string, string][]): HTMLTableElement {
    const table = document.createElement('table');
    table.className = CLASS.figures;
    const body = table.createTBody();
    for (const [label, value] of rows) {
      const tr = body.insertRow();
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = label;
      tr.append(th);
      tr.insertCell().textContent = value;
    }
    return table;
  }

  recommendation(recommendation: IRecommendation): HTMLElement[] {
    const summary = document.createElement('p');
    summary.className = CLASS.recommendation;
    const trans = this.services.trans;
    summary.textContent = trans.__(
      'Recommended cluster: %1 × %2, memory limit %3 per worker',
      trans._n('%1 worker', '%1 workers', recommendation.n_workers),
      trans._n('%1 thread', '%1 threads', recommendation.threads_per_worker),
      formatBytes(recommendation.memory_limit)
    );
    // One reason per line, as the kernel writes them.
    const rationale = document.createElement('ul');
    rationale.className = CLASS.rationale;
    for (const reason of recommendation.rationale.split('\n')) {
      rationale.appendChild(document.createElement('li')).textContent = reason;
    }

    const actions = document.createElement('div');
    actions.className = CLASS.actions;
    const status = document.createElement('span');
    status.id = `jp-ClusterCraft-launchStatus-${Private.nextId()}`;
    status.className = CLASS.status;
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    const launch = this.button(
      this.services.trans.__('Launch recommended cluster'),
      () => this.launch(recommendation, launch, status)
    );
    if (launchRequest(recommendation) === null) {
      // The kernel found the server would refuse it; the warnings say why.
      launch.disabled = true;
      launch.title = recommendation.profile
        ? this.services.trans.__(
            'One worker does not fit cluster profile %1 (see the warnings).',
            recommendation.profile
          )
        : this.services.trans.__(
            'The Jupyter server would refuse this cluster (see the warnings).'
          );
      launch.setAttribute('aria-describedby', status.id);
      status.textContent = launch.title;
    }
    const copy = this.button(this.services.trans.__('Copy as code'), () => {
      this.services.copyToClipboard(this.model.get('code'));
      status.textContent = this.services.trans.__('Copied.');
    });
    actions.append(launch, copy, status);
    return [summary, rationale, actions];
  }

  button(label: string, onClick: () => void): HTMLButtonElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `${CLASS.button} jp-mod-styled`;
    button.textContent = label;
    button.setAttribute('aria-label', label);
    button.addEventListener('click', onClick);
    return button;
  }

  async launch(
    recommendation: IRecommendation,
    button: HTMLButtonElement,
    status: HTMLElement
  ): Promise<ICluster | null> {
    const spec = launchRequest(recommendation);
    if (spec === null || button.disabled) {
      return null; // refused, or a launch is on its way: a second click does nothing
    }
    const trans = this.services.trans;
    if (
      this._launched &&
      !(await this.services.confirm(
        trans.__('Launch another cluster?'),
        trans.__(
          '%1 was launched from this report already. Start another cluster like it?',
          this._launched
        ),
        trans.__('Launch another')
      ))
    ) {
      return null;
    }
    button.disabled = true;
    status.textContent = this.services.trans.__('Starting a cluster…');
    try {
      const cluster = await this.services.launchCluster(spec, c => {
        status.textContent = this.services.trans.__(
          'Starting %1: %2 of %3 workers',
          c.name,
          c.n_workers,
          spec.n_workers
        );
      });
      this._launched = cluster.name;
      this.services.showClusters();
      const inserted = this.services.insertCellBelow(
        this.el,
        clientCode(cluster)
      );
      status.textContent = inserted
        ? this.services.trans.__(
            '%1 is running; the cell below connects to it.',
            cluster.name
          )
        : this.services.trans.__(
            '%1 is running at %2.',
            cluster.name,
            cluster.scheduler_address
          );
      return cluster;
    } catch (error) {
      status.textContent = this.services.trans.__(
        'Could not launch the cluster: %1',
        (error as Error).message
      );
      return null;
    } finally {
      button.disabled = false;
    }
  }
}

/** The view class wired to JupyterLab through `services`. */
export function peakReportView(
  services: IWidgetServices
): typeof PeakReportView {
  return class extends PeakReportView {
    protected get services(): IWidgetServices {
      return services;
    }
  };
}

namespace Private {
  let counter = 0;
  export function nextId(): number {
    return counter++;
  }
}
