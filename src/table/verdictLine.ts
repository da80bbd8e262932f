/**
 * The one-line verdict on a run, with a "Reset peaks" button that starts the
 * next run's measurement.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { ICluster } from '../schema';
import { verdict } from '../verdict';

export const CLASS = {
  verdict: 'jp-ClusterCraft-verdict',
  text: 'jp-ClusterCraft-verdictText',
  reset: 'jp-ClusterCraft-button'
};

/** The `data-level` attribute: the verdict's level, for its colour and for tests. */
export const LEVEL_ATTRIBUTE = 'data-level';

export class VerdictLine {
  constructor(options: VerdictLine.IOptions = {}) {
    const trans = options.trans ?? nullTranslator.load('clustercraft');
    this._trans = trans;
    this.node = document.createElement('div');
    this.node.className = CLASS.verdict;
    this.node.hidden = true;
    this._text = document.createElement('span');
    this._text.className = CLASS.text;
    this.node.appendChild(this._text);
    const onReset = options.onResetPeaks;
    if (onReset) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = CLASS.reset;
      button.textContent = trans.__('Reset peaks');
      button.title = trans.__(
        'Start every worker’s peak memory and the restart count afresh, for the next run'
      );
      button.addEventListener('click', () => onReset());
      this.node.appendChild(button);
      this._reset = button;
    }
  }

  readonly node: HTMLDivElement;

  /** Show the verdict on `cluster`'s run; hidden while there is none. */
  update(cluster: ICluster): void {
    const found = verdict(cluster, this._trans);
    const text = found?.text ?? '';
    if (text !== this._text.textContent) {
      this._text.textContent = text;
      this.node.hidden = !found;
    }
    const level = found?.level ?? '';
    if (level !== this.node.getAttribute(LEVEL_ATTRIBUTE)) {
      this.node.setAttribute(LEVEL_ATTRIBUTE, level);
    }
    if (this._reset) {
      this._reset.disabled = cluster.status !== 'running';
    }
  }

  private _trans: TranslationBundle;
  private _text: HTMLSpanElement;
  private _reset: HTMLButtonElement | null = null;
}

export namespace VerdictLine {
  export interface IOptions {
    trans?: TranslationBundle;
    /** Reset every worker's peak; without it there is no "Reset peaks" button. */
    onResetPeaks?: () => void;
  }
}
