import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { IClusterCraftPanel, PANEL_ID, PLUGIN_ID } from './tokens';
import clusterIconSvg from '../style/icons/cluster.svg';

const clusterIcon = new LabIcon({
  name: 'clustercraft:cluster',
  svgstr: clusterIconSvg
});

/**
 * The "Dask clusters" sidebar panel.
 */
const plugin: JupyterFrontEndPlugin<IClusterCraftPanel> = {
  id: PLUGIN_ID,
  description: 'The "Dask clusters" sidebar panel.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ITranslator],
  provides: IClusterCraftPanel,
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    translator: ITranslator | null
  ): IClusterCraftPanel => {
    const trans = (translator ?? nullTranslator).load('clustercraft');
    const panel = new Widget();
    panel.id = PANEL_ID;
    panel.title.icon = clusterIcon;
    panel.title.caption = trans.__('Dask clusters');
    panel.addClass('jp-ClusterCraft-panel');
    labShell.add(panel, 'left', { rank: 250 });
    return { activate: () => labShell.activateById(panel.id) };
  }
};

export default plugin;
