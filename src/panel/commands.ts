/**
 * The panel's commands (buttons and the command palette run the same ones).
 * Commands take an optional `id`; without it they act on the newest live cluster.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { PathExt } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';

import { clientCode } from '../code';
import { reportName } from '../format';
import { ICluster } from '../schema';
import { CommandIDs, IClusterCraftPanel, IClusterModel } from '../tokens';
import { showScaleDialog } from './scaleDialog';

export const PALETTE_CATEGORY = 'Dask clusters';

export interface ICommandsOptions {
  app: JupyterFrontEnd;
  model: IClusterModel;
  panel: IClusterCraftPanel;
  trans: TranslationBundle;
  notebooks: INotebookTracker | null;
  consoles: IConsoleTracker | null;
  palette: ICommandPalette | null;
}

export function addCommands(options: ICommandsOptions): void {
  const { app, model, panel, trans, notebooks, consoles, palette } = options;
  const { commands, shell } = app;
  const target = (args: any): ICluster | undefined =>
    model.resolve(args?.id as string | undefined);
  const live = (args: any) => {
    const cluster = target(args);
    return !!cluster && cluster.status !== 'lost';
  };
  const report = (title: string) => (error: Error) =>
    void showErrorMessage(title, error.message);

  commands.addCommand(CommandIDs.newCluster, {
    label: trans.__('New Dask cluster'),
    caption: trans.__('Start a Dask cluster with the panel’s options'),
    isEnabled: () => !panel.launching,
    execute: async () => {
      panel.reveal();
      return panel.launch();
    }
  });

  panel.launchingChanged.connect(() =>
    commands.notifyCommandChanged(CommandIDs.newCluster)
  );

  commands.addCommand(CommandIDs.scaleCluster, {
    label: trans.__('Scale Dask cluster'),
    isEnabled: live,
    execute: async args => {
      const cluster = target(args);
      if (!cluster) {
        return;
      }
      const request = await showScaleDialog(cluster, trans);
      if (request) {
        await model
          .scale(cluster.id, request)
          .catch(report(trans.__('Could not scale %1', cluster.name)));
      }
    }
  });

  commands.addCommand(CommandIDs.shutdownCluster, {
    label: args =>
      target(args)?.status === 'lost'
        ? trans.__('Remove lost Dask cluster')
        : trans.__('Shut down Dask cluster'),
    isEnabled: args => !!target(args),
    execute: async args => {
      const cluster = target(args);
      if (!cluster) {
        return;
      }
      if (cluster.status !== 'lost') {
        const result = await showDialog({
          title: trans.__('Shut down %1?', cluster.name),
          body: shutdownWarning(cluster, trans),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.warnButton({ label: trans.__('Shut down') })
          ]
        });
        if (!result.button.accept) {
          return;
        }
      }
      await model
        .shutdown(cluster.id)
        .catch(report(trans.__('Could not shut down %1', cluster.name)));
    }
  });

  commands.addCommand(CommandIDs.forgetCluster, {
    label: trans.__('Forget Dask cluster'),
    caption: trans.__(
      'Stop listing a scheduler adopted by its address; it keeps running'
    ),
    isEnabled: args => target(args)?.origin === 'address',
    execute: async args => {
      const cluster = target(args);
      if (cluster?.origin === 'address') {
        await model
          .shutdown(cluster.id, { forget: true })
          .catch(report(trans.__('Could not forget %1', cluster.name)));
      }
    }
  });

  commands.addCommand(CommandIDs.insertClientCode, {
    label: trans.__('Insert Dask client code'),
    caption: trans.__(
      'Add a cell connecting a Client to the cluster, below the active cell'
    ),
    isEnabled: args =>
      live(args) && !!(notebooks?.currentWidget || consoles?.currentWidget),
    execute: args => {
      const cluster = target(args);
      if (!cluster) {
        return;
      }
      const code = clientCode(cluster.scheduler_address);
      const current = shell.currentWidget;
      const console =
        consoles?.currentWidget &&
        (current === consoles.currentWidget || !notebooks?.currentWidget)
          ? consoles.currentWidget
          : null;
      if (console) {
        console.console.promptCell?.model.sharedModel.setSource(code);
        shell.activateById(console.id);
        return;
      }
      const notebook = notebooks?.currentWidget;
      if (!notebook) {
        return;
      }
      NotebookActions.insertBelow(notebook.content);
      notebook.content.activeCell?.model.sharedModel.setSource(code);
      shell.activateById(notebook.id);
    }
  });

  commands.addCommand(CommandIDs.copyAddress, {
    label: trans.__('Copy Dask scheduler address'),
    isEnabled: live,
    execute: args => {
      const cluster = target(args);
      if (cluster) {
        Clipboard.copyToSystem(cluster.scheduler_address);
      }
    }
  });

  commands.addCommand(CommandIDs.resetPeaks, {
    label: trans.__('Reset Dask worker peaks'),
    caption: trans.__(
      'Start every worker’s peak memory and the memory-restart count afresh'
    ),
    isEnabled: live,
    execute: async args => {
      const cluster = target(args);
      if (cluster) {
        await model
          .resetPeaks(cluster.id)
          .catch(
            report(trans.__('Could not reset the peaks of %1', cluster.name))
          );
      }
    }
  });

  commands.addCommand(CommandIDs.performanceReport, {
    label: args =>
      target(args)?.recording
        ? trans.__('Stop the Dask performance report')
        : trans.__('Record a Dask performance report'),
    caption: trans.__(
      'Record what runs on the cluster until Stop, then save the report as HTML beside the notebook and open it'
    ),
    isEnabled: live,
    execute: async args => {
      const cluster = target(args);
      if (!cluster) {
        return;
      }
      const failed = report(
        trans.__('Could not record a performance report of %1', cluster.name)
      );
      if (!cluster.recording) {
        await model.recordReport(cluster.id, 'start').catch(failed);
        return;
      }
      try {
        const { html } = await model.recordReport(cluster.id, 'stop');
        const notebook = notebooks?.currentWidget?.context.path;
        const path = PathExt.join(
          notebook ? PathExt.dirname(notebook) : '',
          reportName(cluster.name, new Date())
        );
        await app.serviceManager.contents.save(path, {
          type: 'file',
          format: 'text',
          content: html ?? ''
        });
        await commands.execute('docmanager:open', {
          path,
          factory: 'HTML Viewer'
        });
      } catch (error) {
        failed(error as Error);
      }
    }
  });

  if (palette) {
    const category = trans.__(PALETTE_CATEGORY);
    for (const command of [
      CommandIDs.newCluster,
      CommandIDs.scaleCluster,
      CommandIDs.shutdownCluster,
      CommandIDs.forgetCluster,
      CommandIDs.insertClientCode,
      CommandIDs.copyAddress,
      CommandIDs.resetPeaks,
      CommandIDs.performanceReport
    ]) {
      palette.addItem({ command, category });
    }
  }
}

/** What Shut down stops, said before it does. */
function shutdownWarning(cluster: ICluster, trans: TranslationBundle): string {
  switch (cluster.origin) {
    case 'kernel':
      return trans.__(
        'Its kernel closes it: the scheduler and %1 workers stop, and their data is lost.',
        cluster.n_workers
      );
    case 'address':
      return trans.__(
        'The scheduler at %1 was started elsewhere; it and its %2 workers stop, and their data is lost. Forget only stops listing it.',
        cluster.scheduler_address,
        cluster.n_workers
      );
  }
  return trans.__(
    'Its scheduler and %1 workers stop, and their data is lost.',
    cluster.n_workers
  );
}
