/**
 * The Scale dialog: a fixed number of workers, or adaptive between a minimum
 * and a maximum. It stays open until the server takes the request; a refused
 * value keeps what was typed and shows the server's message by its field.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { APIError } from '../api';
import { ICluster, ScaleRequest } from '../schema';
import {
  appendField,
  clearFieldError,
  createFormError,
  showFieldError
} from './field';

export const CLASS = {
  body: 'jp-ClusterCraft-scaleBody',
  choice: 'jp-ClusterCraft-scaleChoice',
  group: 'jp-ClusterCraft-scaleGroup',
  /** The field that has the focus when the dialog opens. */
  first: 'jp-ClusterCraft-scaleFirst'
};

/** Which input a field named by the server is. */
type ScaleField = 'n_workers' | 'adapt.minimum' | 'adapt.maximum';

export class ScaleBody
  extends Widget
  implements Dialog.IBodyWidget<ScaleRequest>
{
  constructor(cluster: ICluster, trans: TranslationBundle) {
    super();
    this.addClass(CLASS.body);
    const prefix = Private.nextId();
    const adaptive = cluster.adapt !== null && cluster.adapt !== undefined;
    const target = cluster.requested_workers ?? cluster.n_workers;
    const group = document.createElement('div');
    group.setAttribute('role', 'radiogroup');
    group.setAttribute('aria-label', trans.__('How to scale'));
    this.node.appendChild(group);
    this._fixed = this._radio(
      group,
      prefix,
      trans.__('Fixed number of workers'),
      !adaptive
    );
    const fixedFields = this._group(group);
    this._count = this._number(
      fixedFields,
      `${prefix}-count`,
      trans.__('Workers'),
      target
    );
    this._adaptive = this._radio(group, prefix, trans.__('Adaptive'), adaptive);
    const adaptiveFields = this._group(group);
    this._minimum = this._number(
      adaptiveFields,
      `${prefix}-minimum`,
      trans.__('Minimum workers'),
      cluster.adapt?.minimum ?? 0
    );
    this._maximum = this._number(
      adaptiveFields,
      `${prefix}-maximum`,
      trans.__('Maximum workers'),
      cluster.adapt?.maximum ?? Math.max(target, 1)
    );
    this._formError = createFormError();
    this.node.appendChild(this._formError);
    // Typing in a group selects it.
    this._count.addEventListener('input', () => (this._fixed.checked = true));
    for (const input of [this._minimum, this._maximum]) {
      input.addEventListener('input', () => (this._adaptive.checked = true));
    }
    // The field of the chosen mode is focused first (the dialog's focusNodeSelector).
    (adaptive ? this._minimum : this._count).classList.add(CLASS.first);
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

  /** The input of a field the server names, e.g. `adapt.minimum`. */
  input(field: ScaleField): HTMLInputElement {
    return {
      n_workers: this._count,
      'adapt.minimum': this._minimum,
      'adapt.maximum': this._maximum
    }[field];
  }

  /** Show the server's message by the field it names, or under the fields. */
  showError(message: string, field: string | null): void {
    this.clearErrors();
    const named: Record<string, HTMLInputElement> = {
      n_workers: this._count,
      'adapt.minimum': this._minimum,
      'adapt.maximum': this._maximum,
      adapt: this._minimum
    };
    const input = field ? named[field] : undefined;
    if (input) {
      showFieldError(input, message);
      input.focus();
      input.select();
    } else {
      this._formError.textContent = message;
    }
  }

  clearErrors(): void {
    for (const input of [this._count, this._minimum, this._maximum]) {
      clearFieldError(input);
    }
    this._formError.textContent = '';
  }

  private _radio(
    parent: HTMLElement,
    prefix: string,
    label: string,
    checked: boolean
  ): HTMLInputElement {
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = `${prefix}-mode`;
    input.checked = checked;
    const labelNode = document.createElement('label');
    labelNode.className = CLASS.choice;
    labelNode.append(input, ` ${label}`);
    parent.appendChild(labelNode);
    return input;
  }

  private _group(parent: HTMLElement): HTMLElement {
    const group = document.createElement('div');
    group.className = CLASS.group;
    parent.appendChild(group);
    return group;
  }

  private _number(
    parent: HTMLElement,
    id: string,
    label: string,
    value: number
  ): HTMLInputElement {
    const input = document.createElement('input');
    input.type = 'number';
    input.min = '0';
    input.step = '1';
    input.value = String(value);
    appendField(parent, id, label, input);
    return input;
  }

  private _fixed: HTMLInputElement;
  private _count: HTMLInputElement;
  private _adaptive: HTMLInputElement;
  private _minimum: HTMLInputElement;
  private _maximum: HTMLInputElement;
  private _formError: HTMLElement;
}

/**
 * A dialog whose accept button (or Enter) sends the request and closes only
 * once the server took it; Cancel and Escape close at once.
 */
export class ScaleDialog extends Dialog<ScaleRequest> {
  constructor(options: ScaleDialog.IOptions) {
    const { cluster, trans } = options;
    const body = new ScaleBody(cluster, trans);
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Scale') })
    ];
    super({
      title: trans.__('Scale %1', cluster.name),
      body,
      buttons,
      focusNodeSelector: `.${CLASS.first}`
    });
    this._scaleBody = body;
    this._buttonList = buttons;
    this._submit = options.submit;
  }

  /** The dialog's fields. */
  get fields(): ScaleBody {
    return this._scaleBody;
  }

  /** True while the request is with the server. */
  get pending(): boolean {
    return this._pending;
  }

  /** Accept sends the request first; the dialog closes when the server took it. */
  resolve(index?: number): void {
    const button = this._buttonList[index ?? this._buttonList.length - 1];
    if (!button?.accept) {
      super.resolve(index);
      return;
    }
    void this._send(index);
  }

  private async _send(index?: number): Promise<void> {
    if (this._pending) {
      return;
    }
    this._pending = true;
    const accept = this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    );
    if (accept) {
      accept.disabled = true;
    }
    this._scaleBody.clearErrors();
    try {
      await this._submit(this._scaleBody.getValue());
    } catch (error) {
      const apiError = error as APIError;
      this._scaleBody.showError(
        apiError.message || String(error),
        apiError.field ?? null
      );
      return;
    } finally {
      this._pending = false;
      if (accept) {
        accept.disabled = false;
      }
    }
    super.resolve(index);
  }

  private _scaleBody: ScaleBody;
  private _buttonList: Dialog.IButton[];
  private _submit: (request: ScaleRequest) => Promise<unknown>;
  private _pending = false;
}

export namespace ScaleDialog {
  export interface IOptions {
    cluster: ICluster;
    trans: TranslationBundle;
    /** Send the request; a rejection keeps the dialog open with its message. */
    submit: (request: ScaleRequest) => Promise<unknown>;
  }
}

/**
 * Ask how to scale and send it with `submit`; the request the server took,
 * or `null` when cancelled.
 */
export async function showScaleDialog(
  cluster: ICluster,
  trans: TranslationBundle,
  submit: (request: ScaleRequest) => Promise<unknown>
): Promise<ScaleRequest | null> {
  const dialog = new ScaleDialog({ cluster, trans, submit });
  const result = await dialog.launch();
  return result.button.accept ? result.value : null;
}

namespace Private {
  let counter = 0;
  export function nextId(): string {
    return `jp-ClusterCraft-scale${counter++}`;
  }
}
