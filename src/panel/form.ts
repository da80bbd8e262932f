/**
 * The small new-cluster form: workers, threads per worker, memory limit per
 * worker, processes or threads. The server judges validity; its message is
 * shown next to the field it names.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IClusterRequest } from '../schema';

export const CLASS = {
  form: 'jp-ClusterCraft-form',
  field: 'jp-ClusterCraft-field',
  fieldError: 'jp-ClusterCraft-fieldError',
  formError: 'jp-ClusterCraft-formError',
  invalid: 'jp-mod-invalid'
};

type FieldName = 'name' | 'n_workers' | 'threads_per_worker' | 'memory_limit';

const PROCESSES = 'processes';
const THREADS = 'threads';
const SERVER_DEFAULT = '';

export class NewClusterForm extends Widget {
  constructor(trans: TranslationBundle) {
    super({ node: document.createElement('form') });
    this.addClass(CLASS.form);
    this._trans = trans;
    const form = this.node as HTMLFormElement;
    form.setAttribute('aria-label', trans.__('New cluster options'));
    form.noValidate = true;
    this._inputs = {
      name: this._addField('name', trans.__('Name'), 'text'),
      n_workers: this._addField('n_workers', trans.__('Workers'), 'number'),
      threads_per_worker: this._addField(
        'threads_per_worker',
        trans.__('Threads per worker'),
        'number'
      ),
      memory_limit: this._addField(
        'memory_limit',
        trans.__('Memory limit per worker'),
        'text'
      )
    };
    this._inputs.memory_limit.placeholder = trans.__('e.g. 4GiB');
    this._processes = this._addProcessesField();
    this._formError = document.createElement('div');
    this._formError.className = CLASS.formError;
    this._formError.setAttribute('role', 'alert');
    form.appendChild(this._formError);
    // Enter in a field launches, like the "New cluster" button.
    form.addEventListener('submit', event => {
      event.preventDefault();
      this._submitted?.();
    });
    this.setDefaults({});
  }

  /** Called when the form is submitted with Enter. */
  set onSubmit(callback: (() => void) | null) {
    this._submitted = callback;
  }

  /** Fill the fields from the settings; empty fields take the server's defaults. */
  setDefaults(defaults: IClusterRequest): void {
    const text = (value: number | string | null | undefined) =>
      value === null || value === undefined ? '' : String(value);
    this._inputs.n_workers.value = text(defaults.n_workers);
    this._inputs.threads_per_worker.value = text(defaults.threads_per_worker);
    this._inputs.memory_limit.value = text(defaults.memory_limit);
    this._processes.value =
      defaults.processes === true
        ? PROCESSES
        : defaults.processes === false
          ? THREADS
          : SERVER_DEFAULT;
    this.clearErrors();
  }

  /** The request body; empty fields are left out. */
  get request(): IClusterRequest {
    const spec: IClusterRequest = {};
    const name = this._inputs.name.value.trim();
    if (name) {
      spec.name = name;
    }
    for (const field of ['n_workers', 'threads_per_worker'] as const) {
      const value = this._inputs[field].value.trim();
      if (value) {
        // Not a number is sent as typed, for the server to name the field.
        const number = Number(value);
        (spec as any)[field] = Number.isFinite(number) ? number : value;
      }
    }
    const memory = this._inputs.memory_limit.value.trim();
    if (memory) {
      spec.memory_limit = /^\d+$/.test(memory) ? Number(memory) : memory;
    }
    if (this._processes.value !== SERVER_DEFAULT) {
      spec.processes = this._processes.value === PROCESSES;
    }
    return spec;
  }

  /** Show a server message by the field it names, or under the form. */
  showError(message: string, field: string | null): void {
    this.clearErrors();
    const input =
      field && field in this._inputs ? this._inputs[field as FieldName] : null;
    const target =
      field === 'processes' ? this._processes : (input as HTMLElement | null);
    if (target) {
      target.classList.add(CLASS.invalid);
      target.setAttribute('aria-invalid', 'true');
      const error = this._errorOf(target);
      error.textContent = message;
      target.focus();
    } else {
      this._formError.textContent = message;
    }
  }

  clearErrors(): void {
    for (const element of [...Object.values(this._inputs), this._processes]) {
      element.classList.remove(CLASS.invalid);
      element.removeAttribute('aria-invalid');
      this._errorOf(element).textContent = '';
    }
    this._formError.textContent = '';
  }

  /** The field's input, for tests and focus. */
  input(field: FieldName): HTMLInputElement {
    return this._inputs[field];
  }

  private _errorOf(element: HTMLElement): HTMLElement {
    return this.node.querySelector(
      `#${element.getAttribute('aria-describedby')}`
    ) as HTMLElement;
  }

  private _addField(
    field: string,
    label: string,
    type: 'text' | 'number'
  ): HTMLInputElement {
    const input = document.createElement('input');
    input.type = type;
    input.name = field;
    if (type === 'number') {
      input.min = '0';
      input.step = '1';
    }
    input.placeholder = this._trans.__('default');
    this._appendField(field, label, input);
    return input;
  }

  private _addProcessesField(): HTMLSelectElement {
    const select = document.createElement('select');
    select.name = 'processes';
    const options: [string, string][] = [
      [SERVER_DEFAULT, this._trans.__('default')],
      [PROCESSES, this._trans.__('Processes')],
      [THREADS, this._trans.__('Threads')]
    ];
    for (const [value, text] of options) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = text;
      select.appendChild(option);
    }
    this._appendField('processes', this._trans.__('Workers run in'), select);
    return select;
  }

  private _appendField(field: string, label: string, control: HTMLElement) {
    const id = `${this._prefix}-${field}`;
    const wrapper = document.createElement('div');
    wrapper.className = CLASS.field;
    const labelNode = document.createElement('label');
    labelNode.htmlFor = id;
    labelNode.textContent = label;
    control.id = id;
    control.setAttribute('aria-describedby', `${id}-error`);
    const error = document.createElement('div');
    error.className = CLASS.fieldError;
    error.id = `${id}-error`;
    error.setAttribute('role', 'alert');
    wrapper.append(labelNode, control, error);
    this.node.appendChild(wrapper);
  }

  private _prefix = Private.nextId();
  private _trans: TranslationBundle;
  private _inputs: Record<FieldName, HTMLInputElement>;
  private _processes: HTMLSelectElement;
  private _formError: HTMLElement;
  private _submitted: (() => void) | null = null;
}

namespace Private {
  let counter = 0;
  export function nextId(): string {
    return `jp-ClusterCraft-form${counter++}`;
  }
}
