import type { IDisposable } from '@lumino/disposable';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';

import type { APIError } from './api';
import type {
  ICluster,
  IClusterRequest,
  IProfile,
  ScaleRequest
} from './schema';

/**
 * Command IDs of clustercraft.
 */
export namespace CommandIDs {
  export const newCluster = 'clustercraft:new-cluster';
  export const scaleCluster = 'clustercraft:scale-cluster';
  export const shutdownCluster = 'clustercraft:shutdown-cluster';
  export const forgetCluster = 'clustercraft:forget-cluster';
  export const insertClientCode = 'clustercraft:insert-client-code';
  export const copyAddress = 'clustercraft:copy-address';
  export const performanceReport = 'clustercraft:performance-report';
  export const openDashboardPlot = 'clustercraft:open-dashboard-plot';
  export const dashboardMenu = 'clustercraft:dashboard-menu';
  export const openDashboardTab = 'clustercraft:open-dashboard-tab';
  export const resetPeaks = 'clustercraft:reset-peaks';
}

/**
 * The id of the sidebar panel, also its DOM id.
 */
export const PANEL_ID = 'clustercraft-clusters';

/**
 * The plugin id whose settings (schema/plugin.json) hold new-cluster defaults.
 */
export const PLUGIN_ID = 'clustercraft:plugin';

/**
 * `idle`: nobody subscribed; `connecting`; `connected`: updates flow;
 * `unreachable`: the server or its clustercraft extension is not answering, retrying.
 */
export type ConnectionState =
  'idle' | 'connecting' | 'connected' | 'unreachable';

/**
 * The clusters of the Jupyter server, kept current from its push channel. The
 * one place the browser asks the server about clusters: the panel, its commands
 * and the inline widgets' Launch all go through it.
 */
export interface IClusterModel {
  /** The clusters, oldest first. */
  readonly clusters: ICluster[];
  readonly state: ConnectionState;
  /** Why the state is `unreachable`. */
  readonly stateError: APIError | null;
  /** Clusters were added or removed. */
  readonly changed: ISignal<IClusterModel, void>;
  /** One cluster's content changed. */
  readonly clusterChanged: ISignal<IClusterModel, ICluster>;
  readonly stateChanged: ISignal<IClusterModel, ConnectionState>;
  get(id: string): ICluster | undefined;
  /** The given cluster, else the newest that is not lost. */
  resolve(id?: string): ICluster | undefined;
  /** Keep the push channel open until the handle is disposed. */
  subscribe(): IDisposable;
  /** The cluster profiles the server offers (its default first), fetched once. */
  profiles(): Promise<IProfile[]>;
  create(request: IClusterRequest): Promise<ICluster>;
  /** Create, then resolve once all its workers run (following pushes, no polling). */
  launch(
    request: IClusterRequest,
    progress?: (cluster: ICluster) => void
  ): Promise<ICluster>;
  scale(id: string, request: ScaleRequest): Promise<ICluster>;
  /** Start recording a performance report, or stop and get its HTML. */
  recordReport(
    id: string,
    action: 'start' | 'stop'
  ): Promise<{ cluster: ICluster; html: string | null }>;
  /** Start every worker's peak memory, and the memory-restart count, afresh. */
  resetPeaks(id: string): Promise<ICluster>;
  /** Shut a cluster down, or forget a lost one (`forget`: a scheduler adopted by address, left running). */
  shutdown(id: string, options?: { forget?: boolean }): Promise<void>;
}

export const IClusterModel = new Token<IClusterModel>(
  'clustercraft:IClusterModel',
  'The clusters of the Jupyter server, kept current from its push channel.'
);

/**
 * The Dask clusters sidebar panel, as commands and widgets use it.
 */
export interface IClusterCraftPanel {
  /** Reveal the sidebar panel. */
  reveal(): void;
  /** Start a cluster from the panel's options; null when the server refused. */
  launch(): Promise<ICluster | null>;
  /** True while a New cluster request is on its way. */
  readonly launching: boolean;
  readonly launchingChanged: ISignal<unknown, boolean>;
}

export const IClusterCraftPanel = new Token<IClusterCraftPanel>(
  'clustercraft:IClusterCraftPanel',
  'The "Dask clusters" sidebar panel.'
);
