/**
 * Registers clustercraft's inline widgets (ClusterInfo, PeakReport, ProfileReport) with the
 * Jupyter widget manager, wired to the notebook tracker and the clusters panel.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { IClusterCraftPanel, IClusterModel } from '../tokens';
import { ClusterInfoModel, clusterInfoView } from './clusterInfo';
import { PeakReportModel, peakReportView } from './peakReport';
import { ProfileReportModel, profileReportView } from './profileReport';
import { defaultServices } from './services';
import { MODULE_NAME, MODULE_VERSION } from './version';

/** Insert a code cell below the notebook cell that holds `node`. */
function insertCellBelow(
  notebooks: INotebookTracker | null,
  node: HTMLElement,
  code: string
): boolean {
  const panel = notebooks?.find(p => p.node.contains(node));
  const notebook = panel?.content;
  const index =
    notebook?.widgets.findIndex(cell => cell.node.contains(node)) ?? -1;
  if (!notebook?.model || index < 0) {
    return false;
  }
  notebook.model.sharedModel.insertCell(index + 1, {
    cell_type: 'code',
    source: code
  });
  notebook.activeCellIndex = index + 1;
  return true;
}

export const widgetsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'clustercraft:widgets',
  description: 'Inline widgets: live worker tables and peak memory reports.',
  autoStart: true,
  requires: [IJupyterWidgetRegistry],
  optional: [IClusterModel, INotebookTracker, IClusterCraftPanel, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    registry: IJupyterWidgetRegistry,
    model: IClusterModel | null,
    notebooks: INotebookTracker | null,
    panel: IClusterCraftPanel | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('clustercraft');
    const services = defaultServices({
      ...(model && {
        launchCluster: (request, progress) => model.launch(request, progress)
      }),
      trans,
      insertCellBelow: (node, code) => insertCellBelow(notebooks, node, code),
      copyToClipboard: text => Clipboard.copyToSystem(text),
      showClusters: () => panel?.reveal(),
      confirm: async (title, body, accept) =>
        (
          await showDialog({
            title,
            body,
            buttons: [
              Dialog.cancelButton({ label: trans.__('Cancel') }),
              Dialog.okButton({ label: accept })
            ]
          })
        ).button.accept
    });
    registry.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: {
        ClusterInfoModel,
        ClusterInfoView: clusterInfoView(services.trans),
        PeakReportModel,
        PeakReportView: peakReportView(services),
        ProfileReportModel,
        ProfileReportView: profileReportView(services)
      }
    });
  }
};

export default widgetsPlugin;
