/**
 * What the inline widgets need from JupyterLab, handed to them by the plugin
 * (and faked by tests): they never reach for app services on their own.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { ICluster, IClusterRequest } from '../schema';

export interface IWidgetServices {
  trans: TranslationBundle;
  /** Start a cluster in the server's cluster manager (the one cluster model); resolves once it runs. */
  launchCluster(
    spec: IClusterRequest,
    progress: (cluster: ICluster) => void
  ): Promise<ICluster>;
  /** Insert a code cell below the cell whose output holds `node`; false if there is none. */
  insertCellBelow(node: HTMLElement, code: string): boolean;
  copyToClipboard(text: string): void;
  /** Reveal the "Dask clusters" panel. */
  showClusters(): void;
  /** Ask the user a yes-or-no question; resolves to their answer. */
  confirm(title: string, body: string, accept: string): Promise<boolean>;
}

export function defaultServices(
  overrides: Partial<IWidgetServices> = {}
): IWidgetServices {
  return {
    trans: nullTranslator.load('clustercraft'),
    launchCluster: () =>
      Promise.reject(new Error('The Dask clusters panel is not available.')),
    insertCellBelow: () => false,
    copyToClipboard: text => void navigator.clipboard?.writeText(text),
    showClusters: () => undefined,
    confirm: async () => true,
    ...overrides
  };
}
