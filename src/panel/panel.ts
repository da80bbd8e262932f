/**
 * The "Dask clusters" sidebar panel: a toolbar whose New cluster item runs the
 * command, the new-cluster options, the connection state, and one card per
 * cluster. Holds a subscription to the server's push channel only while visible.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandToolbarButton, SidePanel } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { IDisposable } from '@lumino/disposable';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { APIError } from '../api';
import { ICluster, IClusterRequest } from '../schema';
import { CommandIDs, IClusterModel } from '../tokens';
import { ClusterCard } from './card';
import { scrollIntoView } from './focus';
import { NewClusterForm } from './form';

export const CLASS = {
  panel: 'jp-ClusterCraft-panel',
  content: 'jp-ClusterCraft-content',
  body: 'jp-ClusterCraft-body',
  newButton: 'jp-ClusterCraft-newButton',
  options: 'jp-ClusterCraft-options',
  connection: 'jp-ClusterCraft-connection',
  cards: 'jp-ClusterCraft-cards',
  empty: 'jp-ClusterCraft-empty'
};

export class ClusterPanel extends SidePanel {
  constructor(options: ClusterPanel.IOptions) {
    // A plain content panel: the default accordion would give the body a title bar.
    const content = new Panel();
    content.addClass(CLASS.content);
    super({ translator: options.translator, content });
    this.addClass(CLASS.panel);
    const { model, trans, commands } = options;
    this.model = model;
    this._bundle = trans;
    this._commands = commands;

    const newButton = new CommandToolbarButton({
      commands,
      id: CommandIDs.newCluster,
      label: trans.__('New cluster'),
      caption: trans.__('Start a Dask cluster with the options below')
    });
    newButton.addClass(CLASS.newButton);
    this.toolbar.addItem('new-cluster', newButton);

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

    const body = new Widget();
    body.addClass(CLASS.body);
    body.node.append(this._options, this._connection, this._empty, this._cards);
    this.addWidget(body);

    model.changed.connect(this._onMembership, this);
    model.clusterChanged.connect(this._onCluster, this);
    model.stateChanged.connect(this._onState, this);
    this._onMembership();
  }

  readonly model: IClusterModel;
  readonly form: NewClusterForm;

  /** True while a New cluster request is on its way. */
  get launching(): boolean {
    return this._launching;
  }

  /** Emitted when `launching` changes (the command's enabled state follows it). */
  get launchingChanged(): ISignal<this, boolean> {
    return this._launchingChanged;
  }

  /** Fill the form from the extension's settings. */
  setDefaults(defaults: IClusterRequest): void {
    this.form.setDefaults(defaults);
  }

  /**
   * Start a cluster from the form; a rejected field is shown by the form.
   * Resolves to the cluster, or null when the server refused.
   */
  async launch(): Promise<ICluster | null> {
    this.form.clearErrors();
    this._setLaunching(true);
    try {
      const cluster = await this.model.create(this.form.request);
      this.focusCard(cluster.id);
      return cluster;
    } catch (error) {
      const apiError = error as APIError;
      if (apiError.field) {
        this._options.open = true;
      }
      this.form.showError(apiError.message, apiError.field ?? null);
      return null;
    } finally {
      this._setLaunching(false);
    }
  }

  /** The card of a cluster, if shown. */
  card(id: string): ClusterCard | undefined {
    return this._cardsById.get(id);
  }

  /** Scroll a cluster's card into view and give it the focus. */
  focusCard(id: string): void {
    const card = this._cardsById.get(id);
    if (!card) {
      return;
    }
    scrollIntoView(card.node, this.node);
    card.node.focus({ preventScroll: true });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._unsubscribe();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    this._subscribe();
  }

  protected onAfterHide(msg: Message): void {
    this._unsubscribe();
  }

  protected onAfterAttach(msg: Message): void {
    if (this.isVisible) {
      this._subscribe();
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this._unsubscribe();
  }

  private _subscribe(): void {
    if (!this._subscription) {
      // The form follows the profiles the server offers (fetched once by the model).
      this.model
        .profiles()
        .then(profiles => this.form.setProfiles(profiles))
        .catch(() => undefined); // an older server: the built-in local profile stays
    }
    this._subscription ??= this.model.subscribe();
  }

  private _unsubscribe(): void {
    this._subscription?.dispose();
    this._subscription = null;
  }

  private _setLaunching(launching: boolean): void {
    this._launching = launching;
    this._launchingChanged.emit(launching);
  }

  /** Add and remove cards, in the model's order. */
  private _onMembership(): void {
    const clusters = this.model.clusters;
    const ids = new Set(clusters.map(c => c.id));
    for (const [id, card] of this._cardsById) {
      if (!ids.has(id)) {
        if (card.node.contains(document.activeElement)) {
          // The focus stays in the panel: on the next card, or the one before.
          const next = (card.node.nextElementSibling ??
            card.node.previousElementSibling) as HTMLElement | null;
          (next ?? this._options.querySelector('summary'))?.focus();
        }
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
          trans: this._bundle,
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
    this.form.clusterNames = clusters.map(c => c.name);
  }

  private _onCluster(model: IClusterModel, cluster: ICluster): void {
    this._cardsById.get(cluster.id)?.render(cluster);
  }

  private _onState(): void {
    const trans = this._bundle;
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

  private _bundle: TranslationBundle;
  private _commands: CommandRegistry;
  private _subscription: IDisposable | null = null;
  private _launching = false;
  private _launchingChanged = new Signal<this, boolean>(this);
  private _options: HTMLDetailsElement;
  private _connection: HTMLElement;
  private _cards: HTMLElement;
  private _empty: HTMLElement;
  private _cardsById = new Map<string, ClusterCard>();
}

export namespace ClusterPanel {
  export interface IOptions {
    model: IClusterModel;
    trans: TranslationBundle;
    commands: CommandRegistry;
    translator?: SidePanel.IOptions['translator'];
  }
}
