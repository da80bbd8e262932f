/**
 * The Scale dialog: a fixed number of workers, or adaptive between a minimum
 * and a maximum.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { ICluster, ScaleRequest } from '../schema';

export const CLASS = {
  body: 'jp-ClusterCraft-scaleBody',
  choice: 'jp-ClusterCraft-scaleChoice'
};

export class ScaleBody
  extends Widget
  implements Dialog.IBodyWidget<ScaleRequest>
{
  constructor(cluster: ICluster, trans: TranslationBundle) {
    super();
    this.addClass(CLASS.body);
    const adaptive = cluster.adapt !== null && cluster.adapt !== undefined;
    const target = cluster.requested_workers ?? cluster.n_workers;
    this._fixed = this._radio(trans.__('Fixed number of workers'), !adaptive);
    this._count = this._number(trans.__('Workers'), target);
    this._adaptive = this._radio(trans.__('Adaptive'), adaptive);
    this._minimum = this._number(
      trans.__('Minimum workers'),
      cluster.adapt?.minimum ?? 0
    );
    this._maximum = this._number(
      trans.__('Maximum workers'),
      cluster.adapt?.maximum ?? Math.max(target, 1)
    );
    // Typing in a group selects it.
    this._count.addEventListener('input', () => (this._fixed.checked = true));
    for (const input of [this._minimum, this._maximum]) {
      input.addEventListener('input', () => (this._adaptive.checked = true));
    }
  }

  getValue(): ScaleRequest {
    if (this._adaptive.checked) {
      return {
        adapt: {
          minimum: Number(this._minimum.value),
          maximum: Number(this._maximum.value)
        }
      };
    }
    return { n_workers: Number(this._count.value) };
  }

  protected onAfterAttach(): void {
    (this._adaptive.checked ? this._minimum : this._count).select();
  }

  private _radio(label: string, checked: boolean): HTMLInputElement {
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'jp-ClusterCraft-scaleMode';
    input.checked = checked;
    const labelNode = document.createElement('label');
    labelNode.className = CLASS.choice;
    labelNode.append(input, ` ${label}`);
    this.node.appendChild(labelNode);
    return input;
  }

  private _number(label: string, value: number): HTMLInputElement {
    const input = document.createElement('input');
    input.type = 'number';
    input.min = '0';
    input.step = '1';
    input.value = String(value);
    input.setAttribute('aria-label', label);
    const labelNode = document.createElement('label');
    labelNode.append(`${label} `, input);
    this.node.appendChild(labelNode);
    return input;
  }

  private _fixed: HTMLInputElement;
  private _count: HTMLInputElement;
  private _adaptive: HTMLInputElement;
  private _minimum: HTMLInputElement;
  private _maximum: HTMLInputElement;
}

/** Ask how to scale; `null` when cancelled. */
export async function showScaleDialog(
  cluster: ICluster,
  trans: TranslationBundle
): Promise<ScaleRequest | null> {
  const result = await showDialog<ScaleRequest>({
    title: trans.__('Scale %1', cluster.name),
    body: new ScaleBody(cluster, trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Scale') })
    ]
  });
  return result.button.accept ? result.value : null;
}
