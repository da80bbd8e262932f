import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';

import { ClusterModel } from './model';
import { addCommands } from './panel/commands';
import { INewClusterDefaults } from './panel/form';
import { ClusterPanel } from './panel/panel';
import { IClusterCraftPanel, PANEL_ID, PLUGIN_ID } from './tokens';
import { widgetsPlugin } from './widgets/plugin';
import clusterIconSvg from '../style/icons/cluster.svg';

const clusterIcon = new LabIcon({
  name: 'clustercraft:cluster',
  svgstr: clusterIconSvg
});

/**
 * The "Dask clusters" sidebar panel and its commands.
 */
const plugin: JupyterFrontEndPlugin<IClusterCraftPanel> = {
  id: PLUGIN_ID,
  description: 'The "Dask clusters" sidebar panel.',
  autoStart: true,
  requires: [ILabShell],
  optional: [
    ITranslator,
    ISettingRegistry,
    ICommandPalette,
    INotebookTracker,
    IConsoleTracker
  ],
  provides: IClusterCraftPanel,
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null
  ): IClusterCraftPanel => {
    const trans = (translator ?? nullTranslator).load('clustercraft');
    const model = new ClusterModel();
    const panel = new ClusterPanel({ model, trans, commands: app.commands });
    panel.id = PANEL_ID;
    panel.title.icon = clusterIcon;
    panel.title.caption = trans.__('Dask clusters');
    labShell.add(panel, 'left', { rank: 250 });
    const activate = () => labShell.activateById(panel.id);

    addCommands({
      app,
      model,
      panel,
      trans,
      activate,
      notebooks,
      consoles,
      palette
    });

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const apply = () =>
          panel.setDefaults(settings.composite as INewClusterDefaults);
        settings.changed.connect(apply);
        apply();
      });
    }
    return { activate };
  }
};

export default [plugin, widgetsPlugin];
