/**
 * clustercraft's plugins. They wire things together and hold no logic: the
 * model plugin provides the one cluster model, the panel and the commands
 * require it, and the inline widgets use it when it is there.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';

import { addDashboardCommands } from './dashboard';
import { ClusterModel } from './model';
import { addCommands } from './panel/commands';
import { ClusterPanel } from './panel/panel';
import { IClusterRequest } from './schema';
import {
  IClusterCraftPanel,
  IClusterModel,
  PANEL_ID,
  PLUGIN_ID
} from './tokens';
import { widgetsPlugin } from './widgets/plugin';
import clusterIconSvg from '../style/icons/cluster.svg';

const clusterIcon = new LabIcon({
  name: 'clustercraft:cluster',
  svgstr: clusterIconSvg
});

/** The clusters of the Jupyter server, from its push channel. */
const modelPlugin: JupyterFrontEndPlugin<IClusterModel> = {
  id: 'clustercraft:model',
  description: 'The clusters of the Jupyter server, kept current.',
  autoStart: true,
  provides: IClusterModel,
  activate: (): IClusterModel => new ClusterModel()
};

/** The "Dask clusters" sidebar panel, wherever the shell has a left area. */
const panelPlugin: JupyterFrontEndPlugin<IClusterCraftPanel> = {
  id: PLUGIN_ID,
  description: 'The "Dask clusters" sidebar panel.',
  autoStart: true,
  requires: [IClusterModel],
  optional: [ITranslator, ISettingRegistry, ILayoutRestorer, ILabShell],
  provides: IClusterCraftPanel,
  activate: (
    app: JupyterFrontEnd,
    model: IClusterModel,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    labShell: ILabShell | null
  ): IClusterCraftPanel => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('clustercraft');
    const panel = new ClusterPanel({
      model,
      trans,
      commands: app.commands,
      translator
    });
    panel.id = PANEL_ID;
    panel.title.icon = clusterIcon;
    panel.title.caption = trans.__('Dask clusters');
    app.shell.add(panel, 'left', { rank: 250 });
    restorer?.add(panel, PANEL_ID);

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const apply = () => panel.setDefaults(withoutNulls(settings.composite));
        settings.changed.connect(apply);
        apply();
      });
    }
    return {
      reveal: () => (labShell ?? app.shell).activateById(PANEL_ID),
      launch: () => panel.launch(),
      get launching() {
        return panel.launching;
      },
      launchingChanged: panel.launchingChanged
    };
  }
};

/** The panel's commands, in the palette too. */
const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'clustercraft:commands',
  description: 'Commands to launch, scale and shut down Dask clusters.',
  autoStart: true,
  requires: [IClusterModel, IClusterCraftPanel],
  optional: [ITranslator, ICommandPalette, INotebookTracker, IConsoleTracker],
  activate: (
    app: JupyterFrontEnd,
    model: IClusterModel,
    panel: IClusterCraftPanel,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null
  ): void => {
    addCommands({
      app,
      model,
      panel,
      trans: (translator ?? nullTranslator).load('clustercraft'),
      notebooks,
      consoles,
      palette
    });
  }
};

/** The Dask dashboard's plots as panes, from the card's menu and the palette. */
const dashboardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'clustercraft:dashboard',
  description: 'The plots of the Dask dashboard as JupyterLab panes.',
  autoStart: true,
  requires: [IClusterModel],
  optional: [ITranslator, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    model: IClusterModel,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    addDashboardCommands({
      app,
      model,
      trans: (translator ?? nullTranslator).load('clustercraft'),
      palette,
      restorer
    });
  }
};

/** The settings' new-cluster defaults, where `null` leaves a field to the server. */
function withoutNulls(settings: Record<string, unknown>): IClusterRequest {
  return Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== null)
  ) as IClusterRequest;
}

export default [
  modelPlugin,
  panelPlugin,
  commandsPlugin,
  dashboardPlugin,
  widgetsPlugin
];
