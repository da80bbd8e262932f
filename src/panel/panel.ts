/**
 * The "Dask clusters" sidebar panel: the New cluster button and form, the
 * connection state, and one card per cluster. Subscribed to the server's push
 * channel only while visible.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { APIError } from '../api';
import { ClusterModel } from '../model';
import { ICluster } from '../schema';
import { ClusterCard } from './card';
import { INewClusterDefaults, NewClusterForm } from './form';

export const CLASS = {
  panel: 'jp-ClusterCraft-panel',
  toolbar: 'jp-ClusterCraft-toolbar',
  newButton: 'jp-ClusterCraft-newButton',
  options: 'jp-ClusterCraft-options',
  connection: 'jp-ClusterCraft-connection',
  cards: 'jp-ClusterCraft-cards',
  empty: 'jp-ClusterCraft-empty'
};

export class ClusterPanel extends Widget {
  constructor(options: ClusterPanel.IOptions) {
    super();
    this.addClass(CLASS.panel);
    const { model, trans, commands } = options;
    this.model = model;
    this._trans = trans;
    this._commands = commands;

    const toolbar = document.createElement('div');
    toolbar.className = CLASS.toolbar;
    this._newButton = document.createElement('button');
    this._newButton.type = 'button';
    this._newButton.className = `${CLASS.newButton} jp-mod-styled jp-mod-accept`;
    this._newButton.textContent = trans.__('New cluster');
    this._newButton.title = trans.__(
      'Start a Dask cluster with the options below'
    );
    this._newButton.addEventListener('click', () => void this.launch());
    toolbar.appendChild(this._newButton);

    this.form = new NewClusterForm(trans);
    this.form.onSubmit = () => void this.launch();
    this._options = document.createElement('details');
    this._options.className = CLASS.options;
    const summary = document.createElement('summary');
    summary.textContent = trans.__('Options');
    this._options.append(summary, this.form.node);

    this._connection = document.createElement('div');
    this._connection.className = CLASS.connection;
    this._connection.setAttribute('role', 'status');
    this._connection.hidden = true;

    this._cards = document.createElement('div');
    this._cards.className = CLASS.cards;
    this._empty = document.createElement('p');
    this._empty.className = CLASS.empty;
    this._empty.textContent = trans.__(
      'No clusters yet. "New cluster" starts one.'
    );

    this.node.append(
      toolbar,
      this._options,
      this._connection,
      this._empty,
      this._cards
    );

    model.changed.connect(this._onMembership, this);
    model.clusterChanged.connect(this._onCluster, this);
    model.stateChanged.connect(this._onState, this);
    this._onMembership();
  }

  readonly model: ClusterModel;
  readonly form: NewClusterForm;

  /** Fill the form from the extension's settings. */
  setDefaults(defaults: INewClusterDefaults): void {
    this.form.setDefaults(defaults);
  }

  /**
   * Start a cluster from the form; a rejected field is shown by the form.
   * Resolves to the cluster, or null when the server refused.
   */
  async launch(): Promise<ICluster | null> {
    this.form.clearErrors();
    this._newButton.disabled = true;
    try {
      return await this.model.create(this.form.spec);
    } catch (error) {
      const apiError = error as APIError;
      if (apiError.field) {
        this._options.open = true;
      }
      this.form.showError(apiError.message, apiError.field ?? null);
      return null;
    } finally {
      this._newButton.disabled = false;
    }
  }

  /** The card of a cluster, if shown. */
  card(id: string): ClusterCard | undefined {
    return this._cardsById.get(id);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.disconnect();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    this.model.connect();
  }

  protected onAfterHide(msg: Message): void {
    this.model.disconnect();
  }

  protected onAfterAttach(msg: Message): void {
    if (this.isVisible) {
      this.model.connect();
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.disconnect();
  }

  /** Add and remove cards, in the model's order. */
  private _onMembership(): void {
    const clusters = this.model.clusters;
    const ids = new Set(clusters.map(c => c.id));
    for (const [id, card] of this._cardsById) {
      if (!ids.has(id)) {
        card.dispose();
        card.node.remove();
        this._cardsById.delete(id);
      }
    }
    let expected = this._cards.firstChild;
    for (const cluster of clusters) {
      let card = this._cardsById.get(cluster.id);
      if (!card) {
        card = new ClusterCard({
          trans: this._trans,
          commands: this._commands
        });
        this._cardsById.set(cluster.id, card);
      }
      if (card.node === expected) {
        expected = expected.nextSibling;
      } else {
        this._cards.insertBefore(card.node, expected);
      }
      // Drawn once in the DOM, so the table can measure its view.
      if (!card.cluster) {
        card.render(cluster);
      }
    }
    this._empty.hidden =
      clusters.length > 0 || this.model.state !== 'connected';
  }

  private _onCluster(model: ClusterModel, cluster: ICluster): void {
    this._cardsById.get(cluster.id)?.render(cluster);
  }

  private _onState(): void {
    const trans = this._trans;
    const error = this.model.stateError;
    let message = '';
    if (this.model.state === 'unreachable' && error) {
      message =
        error.status === 404
          ? trans.__(
              'The clustercraft server extension is not enabled on this Jupyter server. Enable it with "jupyter server extension enable clustercraft" and restart the server. Retrying…'
            )
          : error.status === 0
            ? trans.__('The Jupyter server is unreachable. Retrying…')
            : trans.__(
                'The clustercraft server answered: %1. Retrying…',
                error.message
              );
    }
    this._connection.textContent = message;
    this._connection.hidden = !message;
    this._empty.hidden =
      this.model.clusters.length > 0 || this.model.state !== 'connected';
  }

  private _trans: TranslationBundle;
  private _commands: CommandRegistry;
  private _newButton: HTMLButtonElement;
  private _options: HTMLDetailsElement;
  private _connection: HTMLElement;
  private _cards: HTMLElement;
  private _empty: HTMLElement;
  private _cardsById = new Map<string, ClusterCard>();
}

export namespace ClusterPanel {
  export interface IOptions {
    model: ClusterModel;
    trans: TranslationBundle;
    commands: CommandRegistry;
  }
}
