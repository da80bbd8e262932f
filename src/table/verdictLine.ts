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

  /**
   * Show the verdict on `cluster`'s run. While its workers are known to be idle
   * (none has started a task), say that the verdict waits for a run; hidden
   * while nothing is known.
   */
  update(cluster: ICluster): void {
    const found = verdict(cluster, this._trans);
    const waiting = !found && idle(cluster);
    const text =
      found?.text ??
      (waiting
        ? this._trans.__(
            'No task has run yet: the verdict on memory comes with the first run.'
          )
        : '');
    if (text !== this._text.textContent) {
      this._text.textContent = text;
      this.node.hidden = !text;
    }
    const level = found?.level ?? (waiting ? 'waiting' : '');
    if (level !== this.node.getAttribute(LEVEL_ATTRIBUTE)) {
      this.node.setAttribute(LEVEL_ATTRIBUTE, level);
    }
    if (this._reset) {
      this._reset.disabled = cluster.status !== 'running';
      this._reset.hidden = waiting; // nothing to start afresh
    }
  }

  private _trans: TranslationBundle;
  private _text: HTMLSpanElement;
  private _reset: HTMLButtonElement | null = null;
}

/** Running workers that report their tasks, none of which has started one. */
function idle(cluster: ICluster): boolean {
  const workers = cluster.workers ?? [];
  return (
    cluster.status === 'running' &&
    workers.length > 0 &&
    workers.every(worker => worker.ran_tasks === false)
  );
}

export namespace VerdictLine {
  export interface IOptions {
    trans?: TranslationBundle;
    /** Reset every worker's peak; without it there is no "Reset peaks" button. */
    onResetPeaks?: () => void;
  }
}
