/**
 * The Dask dashboard's individual plots as JupyterLab panes. Every plot comes
 * through the Jupyter server (`/clustercraft/dashboard/{id}/...`), so it works
 * wherever JupyterLab does, behind JupyterHub too.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { IFrame } from '@jupyterlab/ui-components';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { Menu } from '@lumino/widgets';

import { requestAPI } from './api';
import { ICluster } from './schema';
import { CommandIDs, IClusterModel } from './tokens';

export const CLASS = {
  pane: 'jp-ClusterCraft-dashboardPane',
  gone: 'jp-ClusterCraft-dashboardGone'
};

/** A plot of the scheduler's dashboard: what the palette offers without asking a cluster. */
export interface IDashboardPlot {
  label: string;
  /** The path under the dashboard, e.g. `/individual-task-stream`. */
  path: string;
}

export const COMMON_PLOTS: IDashboardPlot[] = [
  { label: 'Task Stream', path: '/individual-task-stream' },
  { label: 'Progress', path: '/individual-progress' },
  { label: 'Worker Memory', path: '/individual-workers-memory' },
  { label: 'Cluster Memory', path: '/individual-cluster-memory' },
  { label: 'Task Graph', path: '/individual-graph' },
  { label: 'Workers CPU', path: '/individual-cpu' },
  { label: 'Occupancy', path: '/individual-occupancy' },
  { label: 'Processing', path: '/individual-nprocessing' },
  { label: 'Memory by Key', path: '/individual-memory-by-key' },
  { label: 'Profile', path: '/individual-profile' }
];

/** The plots a cluster's scheduler lists (`individual-plots.json`), by label. */
export async function listPlots(clusterId: string): Promise<IDashboardPlot[]> {
  const plots = await requestAPI<Record<string, string>>(
    `dashboard/${encodeURIComponent(clusterId)}/individual-plots.json`
  );
  return Object.entries(plots)
    .map(([name, path]) => ({
      label: name.replace(/^Individual /, ''),
      path
    }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** The URL of a dashboard page of a cluster, through the Jupyter server. */
export function dashboardUrl(clusterId: string, path: string): string {
  return URLExt.join(
    PageConfig.getBaseUrl(),
    'clustercraft/dashboard',
    encodeURIComponent(clusterId),
    path
  );
}

/** The id of the pane of one plot of one cluster (one pane each). */
export function paneId(clusterId: string, path: string): string {
  return `clustercraft-dashboard-${clusterId}-${path.replace(/\W+/g, '-')}`;
}

/**
 * One dashboard plot in the main area. While open it keeps the cluster model
 * subscribed, and says so when its cluster is shut down or lost.
 */
export class DashboardPane extends MainAreaWidget<IFrame> {
  constructor(options: DashboardPane.IOptions) {
    const content = new IFrame({
      sandbox: ['allow-scripts', 'allow-same-origin', 'allow-popups']
    });
    content.url = dashboardUrl(options.clusterId, options.plot.path);
    super({ content });
    this.addClass(CLASS.pane);
    this.id = paneId(options.clusterId, options.plot.path);
    this.clusterId = options.clusterId;
    this.plot = options.plot;
    this._model = options.model;
    this._trans = options.trans;
    this.title.closable = true;
    this.title.label = options.plot.label;
    this._gone = document.createElement('div');
    this._gone.className = CLASS.gone;
    this._gone.setAttribute('role', 'status');
    this._gone.hidden = true;
    this.node.appendChild(this._gone);
    this._subscription = this._model.subscribe();
    this._model.changed.connect(this._update, this);
    this._model.clusterChanged.connect(this._update, this);
    this._model.stateChanged.connect(this._update, this);
    this._update();
  }

  readonly clusterId: string;
  readonly plot: IDashboardPlot;

  /** True once the model knows the cluster is gone. */
  get isGone(): boolean {
    return !this._gone.hidden;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._subscription.dispose();
    this._model.changed.disconnect(this._update, this);
    this._model.clusterChanged.disconnect(this._update, this);
    this._model.stateChanged.disconnect(this._update, this);
    super.dispose();
  }

  private _update(): void {
    const cluster = this._model.get(this.clusterId);
    if (cluster) {
      this._name = cluster.name;
      this.title.label = this._trans.__(
        '%1 — %2',
        this.plot.label,
        cluster.name
      );
      this.title.caption = this._trans.__(
        '%1 of Dask cluster %2',
        this.plot.label,
        cluster.name
      );
    }
    // Only a model that has heard from the server can say a cluster is gone.
    const gone =
      this._model.state === 'connected' &&
      (!cluster || ['lost', 'closing', 'closed'].includes(cluster.status));
    if (gone === this.isGone) {
      return;
    }
    this._gone.hidden = !gone;
    this._gone.textContent = gone
      ? this._trans.__(
          'The cluster %1 has been shut down or lost: this plot no longer updates.',
          this._name ?? this.clusterId
        )
      : '';
    this.content.node.style.opacity = gone ? '0.4' : '';
  }

  private _model: IClusterModel;
  private _trans: TranslationBundle;
  private _gone: HTMLElement;
  private _name: string | undefined;
  private _subscription: IDisposable;
}

export namespace DashboardPane {
  export interface IOptions {
    clusterId: string;
    plot: IDashboardPlot;
    model: IClusterModel;
    trans: TranslationBundle;
  }
}

/** The newest live cluster, asking the server when the model has not heard from it yet. */
async function newestCluster(
  model: IClusterModel,
  timeout = 10000
): Promise<ICluster | undefined> {
  if (model.state === 'connected') {
    return model.resolve();
  }
  const subscription = model.subscribe();
  try {
    await new Promise<void>(resolve => {
      const done = () => {
        clearTimeout(timer);
        model.stateChanged.disconnect(check);
        resolve();
      };
      const check = () => {
        if (model.state === 'connected') {
          done();
        }
      };
      const timer = setTimeout(done, timeout);
      model.stateChanged.connect(check);
      check();
    });
    return model.resolve();
  } finally {
    subscription.dispose();
  }
}

export interface IDashboardCommandsOptions {
  app: JupyterFrontEnd;
  model: IClusterModel;
  trans: TranslationBundle;
  palette: ICommandPalette | null;
  restorer: ILayoutRestorer | null;
}

/**
 * Open a plot pane for a cluster (the given one, else the newest), the card's
 * Dashboard menu, and one palette item per common plot.
 */
export function addDashboardCommands(options: IDashboardCommandsOptions): void {
  const { app, model, trans, palette, restorer } = options;
  const tracker = new WidgetTracker<DashboardPane>({
    namespace: 'clustercraft-dashboard'
  });
  const plotOf = (args: ReadonlyPartialJSONObject): IDashboardPlot => ({
    path: String(args.path ?? COMMON_PLOTS[0].path),
    label: String(args.label ?? COMMON_PLOTS[0].label)
  });

  app.commands.addCommand(CommandIDs.openDashboardPlot, {
    label: args => trans.__('Open %1', trans.__(plotOf(args).label)),
    caption: trans.__(
      'Open a plot of the Dask dashboard in a tab (the newest cluster without an id)'
    ),
    execute: async args => {
      const cluster = args.id
        ? (model.get(String(args.id)) ?? { id: String(args.id) })
        : await newestCluster(model);
      if (!cluster) {
        Notification.warning(
          trans.__(
            'No Dask cluster to show: start one in the Dask clusters panel.'
          ),
          { autoClose: 5000 }
        );
        return;
      }
      const plot = plotOf(args);
      const open = tracker.find(
        pane => pane.clusterId === cluster.id && pane.plot.path === plot.path
      );
      if (open) {
        app.shell.activateById(open.id);
        return open;
      }
      const pane = new DashboardPane({
        clusterId: cluster.id,
        plot,
        model,
        trans
      });
      await tracker.add(pane);
      app.shell.add(pane, 'main', { mode: 'split-right' });
      return pane;
    }
  });

  app.commands.addCommand(CommandIDs.dashboardMenu, {
    label: trans.__('Dask dashboard plots'),
    execute: async args => {
      const clusterId = String(args.id ?? '');
      const cluster = model.get(clusterId);
      if (!cluster) {
        return;
      }
      let plots = COMMON_PLOTS;
      try {
        plots = await listPlots(clusterId);
      } catch {
        // The scheduler did not list its plots: offer the common ones.
      }
      const menu = new Menu({ commands: app.commands });
      menu.title.label = trans.__('Dashboard of %1', cluster.name);
      for (const plot of plots) {
        menu.addItem({
          command: CommandIDs.openDashboardPlot,
          args: { id: clusterId, ...plot }
        });
      }
      menu.addItem({ type: 'separator' });
      menu.addItem({
        command: CommandIDs.openDashboardTab,
        args: { id: clusterId }
      });
      menu.aboutToClose.connect(() =>
        requestAnimationFrame(() => menu.dispose())
      );
      menu.open(Number(args.x ?? 0), Number(args.y ?? 0));
    }
  });

  app.commands.addCommand(CommandIDs.openDashboardTab, {
    label: trans.__('Whole dashboard in a browser tab'),
    execute: args => {
      const cluster = model.resolve(args.id as string | undefined);
      if (cluster?.dashboard_link) {
        window.open(cluster.dashboard_link, '_blank', 'noopener');
      }
    }
  });

  if (restorer) {
    // The lock holds two apputils releases (types differ); at run time JupyterLab shares one.
    void restorer.restore<DashboardPane>(tracker as any, {
      command: CommandIDs.openDashboardPlot,
      args: (pane: DashboardPane) => ({ id: pane.clusterId, ...pane.plot }),
      name: (pane: DashboardPane) => `${pane.clusterId}:${pane.plot.path}`
    });
  }
  if (palette) {
    const category = trans.__('Dask clusters');
    for (const plot of COMMON_PLOTS) {
      palette.addItem({
        command: CommandIDs.openDashboardPlot,
        args: { ...plot },
        category
      });
    }
  }
}
