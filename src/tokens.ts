import { Token } from '@lumino/coreutils';

/**
 * Command IDs of clustercraft.
 */
export namespace CommandIDs {
  export const newCluster = 'clustercraft:new-cluster';
  export const scaleCluster = 'clustercraft:scale-cluster';
  export const shutdownCluster = 'clustercraft:shutdown-cluster';
  export const insertClientCode = 'clustercraft:insert-client-code';
  export const copyAddress = 'clustercraft:copy-address';
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
 * Something that can show the Dask clusters sidebar panel.
 */
export interface IClusterCraftPanel {
  /** Reveal the sidebar panel. */
  activate(): void;
}

export const IClusterCraftPanel = new Token<IClusterCraftPanel>(
  'clustercraft:IClusterCraftPanel',
  'The "Dask clusters" sidebar panel.'
);
