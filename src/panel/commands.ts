/**
 * The panel's commands (buttons and the command palette run the same ones).
 * Commands take an optional `id`; without it they act on the newest live cluster.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { PathExt } from '@jupyterlab/coreutils';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { clientCode } from '../code';
import { reportName } from '../format';
import { copyText } from '../table/address';
import { ICluster } from '../schema';
import { CommandIDs, IClusterCraftPanel, IClusterModel } from '../tokens';
import { restoreFocus } from './focus';
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
      // A refused request keeps the dialog open, with the message by its field.
      const opener = document.activeElement;
      await showScaleDialog(cluster, trans, request =>
        model.scale(cluster.id, request)
      );
      restoreFocus(opener);
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
        const opener = document.activeElement;
        const result = await showDialog({
          title: trans.__('Shut down %1?', cluster.name),
          body: shutdownWarning(cluster, trans),
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.warnButton({ label: trans.__('Shut down') })
          ]
        });
        restoreFocus(opener);
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
    // Enabled without a notebook too: it then says so and offers one.
    isEnabled: live,
    execute: async args => {
      const cluster = target(args);
      if (!cluster) {
        return;
      }
      const code = clientCode(cluster);
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
      if (notebook) {
        NotebookActions.insertBelow(notebook.content);
        notebook.content.activeCell?.model.sharedModel.setSource(code);
        shell.activateById(notebook.id);
        return;
      }
      const created = await offerNotebook(cluster);
      if (created) {
        await created.context.ready;
        // A new notebook's one empty cell takes the code.
        const first = created.content.model?.cells.get(0);
        if (first && first.sharedModel.getSource() === '') {
          first.sharedModel.setSource(code);
        } else {
          NotebookActions.insertBelow(created.content);
          created.content.activeCell?.model.sharedModel.setSource(code);
        }
        shell.activateById(created.id);
      }
    }
  });

  /**
   * Say that no notebook or console is open and offer a new notebook: the new
   * notebook, or null when declined or opened elsewhere (another browser tab,
   * as Notebook 7 does; the code is then on the clipboard).
   */
  async function offerNotebook(
    cluster: ICluster
  ): Promise<NotebookPanel | null> {
    const opener = document.activeElement;
    const code = clientCode(cluster);
    const body = document.createElement('div');
    const text = document.createElement('p');
    text.textContent = trans.__(
      'No notebook or console is open to insert the client code of %1 into. Start a new notebook with it?',
      cluster.name
    );
    const pre = document.createElement('pre');
    pre.textContent = code;
    body.append(text, pre);
    const choice = await showDialog({
      title: trans.__('No notebook or console is open'),
      body: new Widget({ node: body }),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('New notebook') })
      ]
    });
    if (!choice.button.accept) {
      restoreFocus(opener);
      return null;
    }
    const widget = await commands.execute('notebook:create-new', {
      kernelName: app.serviceManager.kernelspecs.specs?.default ?? ''
    });
    if (widget instanceof NotebookPanel) {
      return widget;
    }
    copyText(code);
    Notification.info(
      trans.__('The client code of %1 is on the clipboard.', cluster.name),
      { autoClose: 5000 }
    );
    return null;
  }

  commands.addCommand(CommandIDs.copyAddress, {
    label: trans.__('Copy Dask scheduler address'),
    isEnabled: live,
    execute: args => {
      const cluster = target(args);
      if (cluster) {
        copyText(cluster.scheduler_address);
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
  const n = cluster.n_workers;
  switch (cluster.origin) {
    case 'kernel':
      return trans._n(
        'Its kernel closes it: the scheduler and %1 worker stop, and their data is lost.',
        'Its kernel closes it: the scheduler and %1 workers stop, and their data is lost.',
        n
      );
    case 'address':
      return trans._n(
        'The scheduler at %2 was started elsewhere; it and its %1 worker stop, and their data is lost. Forget only stops listing it.',
        'The scheduler at %2 was started elsewhere; it and its %1 workers stop, and their data is lost. Forget only stops listing it.',
        n,
        cluster.scheduler_address
      );
  }
  return trans._n(
    'Its scheduler and %1 worker stop, and their data is lost.',
    'Its scheduler and %1 workers stop, and their data is lost.',
    n
  );
}
