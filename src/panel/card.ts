/**
 * One cluster in the panel: name, status and progress, dashboard link,
 * actions, and the shared tables.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { originLabel } from '../format';
import { ICluster } from '../schema';
import { ClusterTables, statusLabel } from '../table';
import { CommandIDs } from '../tokens';

export const CLASS = {
  card: 'jp-ClusterCraft-card',
  header: 'jp-ClusterCraft-cardHeader',
  name: 'jp-ClusterCraft-cardName',
  status: 'jp-ClusterCraft-status',
  progress: 'jp-ClusterCraft-progress',
  error: 'jp-ClusterCraft-cardError',
  dashboard: 'jp-ClusterCraft-dashboardLink',
  actions: 'jp-ClusterCraft-actions',
  button: 'jp-ClusterCraft-button',
  lost: 'jp-mod-lost',
  jobs: 'jp-ClusterCraft-jobs'
};

/** The `data-status` attribute of the card and its badge, for styles and tests. */
export const STATUS_ATTRIBUTE = 'data-status';

interface IAction {
  label: string;
  command: string;
  /** Shown only for clusters that are (not) lost. */
  whenLost: boolean;
  title: string;
  /** Shown only for clusters from these origins (all when absent). */
  origins?: string[];
}

export class ClusterCard extends Widget {
  constructor(options: ClusterCard.IOptions) {
    super();
    this.addClass(CLASS.card);
    this.node.setAttribute('role', 'region');
    // Focusable, so a new card can take the focus (not in the tab order).
    this.node.tabIndex = -1;
    const { trans, commands } = options;
    this._trans = trans;

    const header = document.createElement('div');
    header.className = CLASS.header;
    this._name = document.createElement('h3');
    this._name.className = CLASS.name;
    this._status = document.createElement('span');
    this._status.className = CLASS.status;
    this._progress = document.createElement('span');
    this._progress.className = CLASS.progress;
    this._progress.setAttribute('role', 'status');
    this._dashboard = document.createElement('a');
    this._dashboard.className = CLASS.dashboard;
    this._dashboard.target = '_blank';
    this._dashboard.rel = 'noopener noreferrer';
    this._dashboard.textContent = trans.__('Dashboard');
    this._dashboard.setAttribute('aria-haspopup', 'menu');
    // A plain click opens the menu of plots as panes; a modified click still opens a tab.
    this._dashboard.addEventListener('click', event => {
      if (this.cluster && !(event.ctrlKey || event.metaKey || event.shiftKey)) {
        event.preventDefault();
        const box = this._dashboard.getBoundingClientRect();
        void options.commands.execute(CommandIDs.dashboardMenu, {
          id: this.cluster.id,
          x: box.left,
          y: box.bottom
        });
      }
    });
    header.append(this._name, this._status, this._progress, this._dashboard);
    this._jobs = document.createElement('p');
    this._jobs.className = CLASS.jobs;
    this._jobs.setAttribute('role', 'status');
    this._jobs.hidden = true;

    const actions = document.createElement('div');
    actions.className = CLASS.actions;
    actions.setAttribute('role', 'toolbar');
    const definitions: IAction[] = [
      {
        label: trans.__('Scale'),
        command: CommandIDs.scaleCluster,
        whenLost: false,
        origins: ['panel', 'kernel'], // a scheduler started elsewhere is scaled there
        title: trans.__('Set the number of workers, or make it adaptive')
      },
      {
        label: trans.__('Insert client code'),
        command: CommandIDs.insertClientCode,
        whenLost: false,
        title: trans.__('Add a cell that connects a Client to this cluster')
      },
      {
        label: trans.__('Copy address'),
        command: CommandIDs.copyAddress,
        whenLost: false,
        title: trans.__('Copy the scheduler address')
      },
      {
        label: trans.__('Record report'),
        command: CommandIDs.performanceReport,
        whenLost: false,
        origins: ['panel'],
        title: trans.__(
          'Record a performance report of what runs until Stop report'
        )
      },
      {
        label: trans.__('Forget'),
        command: CommandIDs.forgetCluster,
        whenLost: false,
        origins: ['address'],
        title: trans.__('Stop listing this scheduler; it keeps running')
      },
      {
        label: trans.__('Shut down'),
        command: CommandIDs.shutdownCluster,
        whenLost: false,
        title: trans.__('Stop the scheduler and all workers')
      },
      {
        label: trans.__('Remove'),
        command: CommandIDs.shutdownCluster,
        whenLost: true,
        title: trans.__('Forget this lost cluster')
      }
    ];
    this._buttons = definitions.map(action => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = CLASS.button;
      button.textContent = action.label;
      button.title = action.title;
      button.addEventListener('click', () => {
        if (this._cluster) {
          void commands.execute(action.command, { id: this._cluster.id });
        }
      });
      actions.appendChild(button);
      return { button, action };
    });

    this._error = document.createElement('p');
    this._error.className = CLASS.error;
    this._error.setAttribute('role', 'alert');
    this._error.hidden = true;

    this.tables = new ClusterTables({
      trans,
      onResetPeaks: () => {
        if (this._cluster) {
          void commands.execute(CommandIDs.resetPeaks, {
            id: this._cluster.id
          });
        }
      }
    });
    this.node.append(
      header,
      this._jobs,
      this._error,
      actions,
      this.tables.node
    );
  }

  readonly tables: ClusterTables;

  get cluster(): ICluster | null {
    return this._cluster;
  }

  /** Show the cluster's latest state. */
  render(cluster: ICluster): void {
    const trans = this._trans;
    const previous = this._cluster;
    this._cluster = cluster;
    if (previous?.name !== cluster.name) {
      this._name.textContent = cluster.name;
      this.node.setAttribute(
        'aria-label',
        trans.__('Cluster %1', cluster.name)
      );
    }
    if (previous?.status !== cluster.status) {
      this._status.textContent = statusLabel(cluster, trans);
      this._status.setAttribute(STATUS_ATTRIBUTE, cluster.status);
      this.node.setAttribute(STATUS_ATTRIBUTE, cluster.status);
      const lost = cluster.status === 'lost';
      this.toggleClass(CLASS.lost, lost);
      const origin = cluster.origin ?? 'panel';
      for (const { button, action } of this._buttons) {
        button.hidden =
          action.whenLost !== lost ||
          (!!action.origins && !action.origins.includes(origin));
      }
    }
    const recording = !!cluster.recording;
    if (!previous || recording !== !!previous.recording) {
      const button = this._buttons.find(
        b => b.action.command === CommandIDs.performanceReport
      )!.button;
      button.textContent = recording
        ? trans.__('Stop report')
        : trans.__('Record report');
      button.setAttribute('aria-pressed', String(recording));
    }
    const origin = originLabel(cluster, trans); // "from kernel: analysis.ipynb"
    const progress = [origin, progressLabel(cluster, trans)]
      .filter(Boolean)
      .join(' · ');
    if (progress !== this._progress.textContent) {
      this._progress.textContent = progress;
    }
    const jobs = jobsLabel(cluster, trans);
    if (jobs !== this._jobs.textContent) {
      this._jobs.textContent = jobs;
      this._jobs.hidden = !jobs;
    }
    const error = cluster.error ?? '';
    if (error !== this._error.textContent) {
      this._error.textContent = error;
      this._error.hidden = !error;
    }
    const link = cluster.dashboard_link ?? '';
    if (!previous || link !== (previous.dashboard_link ?? '')) {
      this._dashboard.hidden = !link;
      this._dashboard.href = link;
      this._dashboard.title = link;
    }
    this.tables.update(cluster);
  }

  private _trans: TranslationBundle;
  private _name: HTMLElement;
  private _status: HTMLElement;
  private _progress: HTMLElement;
  private _jobs: HTMLElement;
  private _error: HTMLElement;
  private _dashboard: HTMLAnchorElement;
  private _buttons: { button: HTMLButtonElement; action: IAction }[];
  private _cluster: ICluster | null = null;
}

export namespace ClusterCard {
  export interface IOptions {
    trans: TranslationBundle;
    commands: CommandRegistry;
  }
}

/**
 * Where a cluster runs, for clusters not on this machine: its profile, its
 * jobs ("2 running, 1 pending in queue debug") and why the last job ended.
 */
export function jobsLabel(cluster: ICluster, trans: TranslationBundle): string {
  const jobs = cluster.jobs;
  if (!jobs) {
    return '';
  }
  const where = jobs.queue
    ? trans.__(
        '%1 running, %2 pending in queue %3',
        jobs.running,
        jobs.pending,
        jobs.queue
      )
    : trans.__('%1 running, %2 pending', jobs.running, jobs.pending);
  const parts = [
    cluster.profile ? trans.__('%1: %2', cluster.profile, where) : where
  ];
  const last = jobs.ended[jobs.ended.length - 1];
  if (last) {
    parts.push(
      trans.__(
        'job %1 ended: %2',
        last.job_id,
        [last.state, last.reason].filter(Boolean).join(', ') ||
          trans.__('no reason given')
      )
    );
  }
  return parts.join('; ');
}

/** "3 / 4 workers", "1 / 1 worker", or "3 workers (adaptive 1–8)". */
export function progressLabel(
  cluster: ICluster,
  trans: TranslationBundle
): string {
  if (cluster.adapt) {
    return trans._n(
      '%1 worker (adaptive %2–%3)',
      '%1 workers (adaptive %2–%3)',
      cluster.n_workers,
      cluster.adapt.minimum,
      cluster.adapt.maximum
    );
  }
  const target = cluster.requested_workers ?? cluster.n_workers;
  // The count that reads with the noun is the target: "0 / 1 worker", "1 / 2 workers".
  return trans._n(
    '%2 / %1 worker',
    '%2 / %1 workers',
    target,
    cluster.n_workers
  );
}
