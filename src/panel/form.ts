/**
 * The small new-cluster form: workers, threads per worker, memory limit per
 * worker, processes or threads. An empty field takes its default, which the
 * placeholder shows; the server judges validity, and its message is shown
 * next to the field it names.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { formatBytes } from '../format';
import { IClusterRequest } from '../schema';
import {
  appendField,
  clearFieldError,
  createFormError,
  showFieldError
} from './field';

export const CLASS = {
  form: 'jp-ClusterCraft-form'
};

type FieldName = 'name' | 'n_workers' | 'threads_per_worker' | 'memory_limit';

/**
 * What the server does with a field left out of a request. Its built-in
 * defaults until it sends its own (the fields of `GET /clustercraft/profiles`
 * carry them).
 */
export interface IServerDefaults {
  n_workers: number;
  threads_per_worker: number;
  /** Bytes, or "auto": the machine's memory split evenly between the workers. */
  memory_limit: number | string;
  processes: boolean;
}

/** clustercraft's server defaults unless its admin configured others. */
export const BUILTIN_SERVER_DEFAULTS: IServerDefaults = {
  n_workers: 2,
  threads_per_worker: 1,
  memory_limit: 'auto',
  processes: true
};

/** The name the server gives a cluster without one: the first free "cluster-N". */
export function defaultClusterName(taken: Iterable<string>): string {
  const names = new Set(taken);
  let number = 1;
  while (names.has(`cluster-${number}`)) {
    number++;
  }
  return `cluster-${number}`;
}

const PROCESSES = 'processes';
const THREADS = 'threads';

/**
 * The placeholders of the form: each field's default and where it comes
 * from; `n_workers` is the number of workers the memory is shared by.
 */
export function placeholders(
  settings: IClusterRequest,
  server: IServerDefaults,
  trans: TranslationBundle = nullTranslator.load('clustercraft'),
  n_workers: number = settings.n_workers ?? server.n_workers
): Record<'n_workers' | 'threads_per_worker' | 'memory_limit', string> {
  const byDefault = (value: string | number) => trans.__('%1 (default)', value);
  const memory = settings.memory_limit ?? server.memory_limit;
  let memoryText: string;
  if (memory === 'auto') {
    memoryText =
      n_workers > 1
        ? trans.__('auto: machine memory / %1', n_workers)
        : trans.__('auto: all machine memory');
  } else {
    memoryText = byDefault(
      typeof memory === 'number' ? formatBytes(memory) : memory
    );
  }
  return {
    n_workers: byDefault(settings.n_workers ?? server.n_workers),
    threads_per_worker: byDefault(
      settings.threads_per_worker ?? server.threads_per_worker
    ),
    memory_limit: memoryText
  };
}

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
    // The memory placeholder says how many workers share the machine.
    this._inputs.n_workers.addEventListener('input', () =>
      this._showDefaults()
    );
    this._processes = this._addProcessesField();
    this._formError = createFormError();
    form.appendChild(this._formError);
    // Enter in a field launches, like the "New cluster" button.
    form.addEventListener('submit', event => {
      event.preventDefault();
      this._submitted?.();
    });
    this._showDefaults();
  }

  /** Called when the form is submitted with Enter. */
  set onSubmit(callback: (() => void) | null) {
    this._submitted = callback;
  }

  /** The defaults from the settings: an empty field takes its value. */
  setDefaults(defaults: IClusterRequest): void {
    this._settings = { ...defaults };
    this._showDefaults();
    this.clearErrors();
  }

  /** What the server does with fields left out (from its profiles, when it sends them). */
  setServerDefaults(defaults: Partial<IServerDefaults>): void {
    this._server = { ...BUILTIN_SERVER_DEFAULTS, ...defaults };
    this._showDefaults();
  }

  /** The names of the server's clusters, for the default name of the next one. */
  set clusterNames(names: string[]) {
    this._names = names;
    this._showDefaults();
  }

  /** The request body: typed values, else the settings' defaults; the rest is left to the server. */
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
      } else if (this._settings[field] !== undefined) {
        spec[field] = this._settings[field];
      }
    }
    const memory = this._inputs.memory_limit.value.trim();
    if (memory) {
      spec.memory_limit = /^\d+$/.test(memory) ? Number(memory) : memory;
    } else if (this._settings.memory_limit !== undefined) {
      spec.memory_limit = this._settings.memory_limit;
    }
    const processes = this._processes.value === PROCESSES;
    if (
      this._settings.processes !== undefined ||
      processes !== this._server.processes
    ) {
      spec.processes = processes;
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
      showFieldError(target, message);
      target.focus();
    } else {
      this._formError.textContent = message;
    }
  }

  clearErrors(): void {
    for (const element of [...Object.values(this._inputs), this._processes]) {
      clearFieldError(element);
    }
    this._formError.textContent = '';
  }

  /** The field's input, for tests and focus. */
  input(field: FieldName): HTMLInputElement {
    return this._inputs[field];
  }

  /** The processes-or-threads choice. */
  get processes(): HTMLSelectElement {
    return this._processes;
  }

  /** Write each field's default into its placeholder, and preselect the default mode. */
  private _showDefaults(): void {
    const typed = Number(this._inputs.n_workers.value.trim());
    const workers =
      Number.isInteger(typed) && typed > 0
        ? typed
        : (this._settings.n_workers ?? this._server.n_workers);
    const texts = placeholders(
      this._settings,
      this._server,
      this._trans,
      workers
    );
    this._inputs.name.placeholder = this._trans.__(
      '%1 (default)',
      defaultClusterName(this._names)
    );
    for (const field of [
      'n_workers',
      'threads_per_worker',
      'memory_limit'
    ] as const) {
      this._inputs[field].placeholder = texts[field];
      this._inputs[field].title = texts[field];
    }
    const processes = this._settings.processes ?? this._server.processes;
    const options = this._processes.options;
    options[0].textContent = processes
      ? this._trans.__('Processes (default)')
      : this._trans.__('Processes');
    options[1].textContent = processes
      ? this._trans.__('Threads')
      : this._trans.__('Threads (default)');
    if (!this._processesChosen) {
      this._processes.value = processes ? PROCESSES : THREADS;
    }
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
    appendField(this.node, `${this._prefix}-${field}`, label, input);
    return input;
  }

  private _addProcessesField(): HTMLSelectElement {
    const select = document.createElement('select');
    select.name = 'processes';
    for (const value of [PROCESSES, THREADS]) {
      const option = document.createElement('option');
      option.value = value;
      select.appendChild(option);
    }
    select.addEventListener('change', () => (this._processesChosen = true));
    appendField(
      this.node,
      `${this._prefix}-processes`,
      this._trans.__('Workers run in'),
      select
    );
    return select;
  }

  private _prefix = Private.nextId();
  private _trans: TranslationBundle;
  private _inputs: Record<FieldName, HTMLInputElement>;
  private _processes: HTMLSelectElement;
  private _processesChosen = false;
  private _formError: HTMLElement;
  private _settings: IClusterRequest = {};
  private _names: string[] = [];
  private _server: IServerDefaults = BUILTIN_SERVER_DEFAULTS;
  private _submitted: (() => void) | null = null;
}

namespace Private {
  let counter = 0;
  export function nextId(): string {
    return `jp-ClusterCraft-form${counter++}`;
  }
}
