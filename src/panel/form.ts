/**
 * The new-cluster form: a name, the cluster profile (this machine, a job queue,
 * a gateway: what the server's admin offers) and that profile's fields. An
 * empty field takes its default, which the placeholder shows; the server
 * judges validity, and its message is shown next to the field it names.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { formatBytes } from '../format';
import { IClusterRequest, IProfile, IProfileField } from '../schema';
import {
  appendField,
  clearFieldError,
  createFormError,
  showFieldError
} from './field';

export const CLASS = {
  form: 'jp-ClusterCraft-form',
  fields: 'jp-ClusterCraft-profileFields'
};

/**
 * The built-in profile of a server that has not said which it offers (yet):
 * the fields and defaults of clustercraft's own `local` profile.
 */
export const BUILTIN_PROFILE: IProfile = {
  name: 'local',
  title: 'This machine',
  factory: 'distributed.LocalCluster',
  kind: 'local',
  fields: [
    {
      name: 'n_workers',
      type: 'integer',
      default: 2,
      minimum: 1,
      description: 'Workers'
    },
    {
      name: 'threads_per_worker',
      type: 'integer',
      default: 1,
      minimum: 1,
      description: 'Threads per worker'
    },
    {
      name: 'memory_limit',
      type: 'memory',
      default: null,
      description: 'Memory limit per worker'
    },
    {
      name: 'processes',
      type: 'boolean',
      default: true,
      description: 'Workers in their own processes'
    }
  ]
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

/** The label of a field: short words for the common ones, else its description. */
function fieldLabel(field: IProfileField, trans: TranslationBundle): string {
  const labels: Record<string, string> = {
    n_workers: trans.__('Workers'),
    threads_per_worker: trans.__('Threads per worker'),
    memory_limit: trans.__('Memory limit per worker')
  };
  if (field.name === 'processes' && field.type === 'boolean') {
    return trans.__('Workers run in');
  }
  return labels[field.name] ?? (field.description || field.name);
}

/**
 * A field's placeholder: its default and where it comes from. `workers` is
 * how many workers share the machine's memory when a local limit is "auto".
 */
export function placeholder(
  field: IProfileField,
  value: unknown,
  kind: IProfile['kind'],
  workers: number,
  trans: TranslationBundle = nullTranslator.load('clustercraft')
): string {
  if (value === null || value === undefined) {
    if (field.type === 'memory' && kind === 'local') {
      return workers > 1
        ? trans.__('auto: machine memory / %1', workers)
        : trans.__('auto: all machine memory');
    }
    return trans.__('(the cluster’s own default)');
  }
  const shown =
    field.type === 'memory' && typeof value === 'number'
      ? formatBytes(value)
      : String(value);
  return trans.__('%1 (default)', shown);
}

type Control = HTMLInputElement | HTMLSelectElement;

export class NewClusterForm extends Widget {
  constructor(trans: TranslationBundle) {
    super({ node: document.createElement('form') });
    this.addClass(CLASS.form);
    this._trans = trans;
    const form = this.node as HTMLFormElement;
    form.setAttribute('aria-label', trans.__('New cluster options'));
    form.noValidate = true;
    this._name = document.createElement('input');
    this._name.type = 'text';
    this._name.name = 'name';
    appendField(form, `${this._prefix}-name`, trans.__('Name'), this._name);
    this._profile = document.createElement('select');
    this._profile.name = 'profile';
    this._profileField = appendField(
      form,
      `${this._prefix}-profile`,
      trans.__('Runs on'),
      this._profile
    );
    this._profile.addEventListener('change', () => this._showProfile());
    this._fields = document.createElement('div');
    this._fields.className = CLASS.fields;
    form.appendChild(this._fields);
    this._formError = createFormError();
    form.appendChild(this._formError);
    // Enter in a field launches, like the "New cluster" button.
    form.addEventListener('submit', event => {
      event.preventDefault();
      this._submitted?.();
    });
    this.setProfiles([BUILTIN_PROFILE]);
  }

  /** Called when the form is submitted with Enter. */
  set onSubmit(callback: (() => void) | null) {
    this._submitted = callback;
  }

  /** The profiles the server offers (its default first); the form follows the chosen one. */
  setProfiles(profiles: IProfile[]): void {
    const chosen = this._profile.value;
    this._profiles = profiles.length ? profiles : [BUILTIN_PROFILE];
    this._profile.replaceChildren(
      ...this._profiles.map(profile => {
        const option = document.createElement('option');
        option.value = profile.name;
        option.textContent = profile.title || profile.name;
        return option;
      })
    );
    if (this._profiles.some(p => p.name === chosen)) {
      this._profile.value = chosen;
    }
    this._profileField.hidden = this._profiles.length < 2;
    this._showProfile();
  }

  /**
   * The defaults from the settings (new clusters on this machine): an empty
   * field of that name of a local profile takes its value.
   */
  setDefaults(defaults: IClusterRequest): void {
    this._settings = { ...defaults };
    this._showDefaults();
    this.clearErrors();
  }

  /** The names of the server's clusters, for the default name of the next one. */
  set clusterNames(names: string[]) {
    this._names = names;
    this._showDefaults();
  }

  /** The chosen profile. */
  get profile(): IProfile {
    return (
      this._profiles.find(p => p.name === this._profile.value) ??
      this._profiles[0]
    );
  }

  /** The request body: typed values, else the settings' defaults; the rest is left to the server. */
  get request(): IClusterRequest {
    const request: IClusterRequest = {};
    if (this._profiles.length > 1) {
      request.profile = this.profile.name;
    }
    const name = this._name.value.trim();
    if (name) {
      request.name = name;
    }
    for (const field of this.profile.fields) {
      const value = this._value(field);
      if (value !== undefined) {
        request[field.name] = value;
      }
    }
    return request;
  }

  /** Show a server message by the field it names, or under the form. */
  showError(message: string, field: string | null): void {
    this.clearErrors();
    const target =
      field === 'name'
        ? this._name
        : field === 'profile'
          ? this._profile
          : field
            ? this._controls.get(field)
            : undefined;
    if (target) {
      showFieldError(target, message);
      target.focus();
    } else {
      this._formError.textContent = message;
    }
  }

  clearErrors(): void {
    for (const control of [
      this._name,
      this._profile,
      ...this._controls.values()
    ]) {
      clearFieldError(control);
    }
    this._formError.textContent = '';
  }

  /** The control of a field (`name`, or one of the chosen profile's), for tests and focus. */
  input(field: string): Control {
    const control = field === 'name' ? this._name : this._controls.get(field);
    if (!control) {
      throw new Error(`the ${this.profile.name} profile has no field ${field}`);
    }
    return control;
  }

  /** The processes-or-threads choice of the local profile. */
  get processes(): HTMLSelectElement {
    return this.input('processes') as HTMLSelectElement;
  }

  /** A field's value to send: typed, else the settings', else none (the server's default). */
  private _value(field: IProfileField): unknown {
    const control = this._controls.get(field.name)!;
    const setting = this._setting(field.name);
    if (control instanceof HTMLSelectElement) {
      const value = JSON.parse(control.value);
      const fallback = setting ?? field.default;
      return this._chosen.has(field.name) ||
        value !== fallback ||
        setting !== undefined
        ? value
        : undefined;
    }
    const typed = control.value.trim();
    if (!typed) {
      return setting ?? undefined;
    }
    if (field.type === 'integer' || field.type === 'number') {
      // Not a number is sent as typed, for the server to name the field.
      const number = Number(typed);
      return Number.isFinite(number) ? number : typed;
    }
    if (field.type === 'memory') {
      return /^\d+$/.test(typed) ? Number(typed) : typed;
    }
    return typed;
  }

  /** The settings' default for a field of the chosen profile (local profiles only). */
  private _setting(name: string): unknown {
    return this.profile.kind === 'local' ? this._settings[name] : undefined;
  }

  /** Draw the chosen profile's fields. */
  private _showProfile(): void {
    this._controls.clear();
    this._chosen.clear();
    this._fields.replaceChildren();
    for (const field of this.profile.fields) {
      const control = this._control(field);
      control.name = field.name;
      control.title = field.description;
      appendField(
        this._fields,
        `${this._prefix}-${this.profile.name}-${field.name}`,
        fieldLabel(field, this._trans),
        control
      );
      this._controls.set(field.name, control);
    }
    this._showDefaults();
  }

  private _control(field: IProfileField): Control {
    if (field.type === 'boolean' || field.type === 'choice') {
      const select = document.createElement('select');
      const values =
        field.type === 'boolean' ? [true, false] : (field.choices ?? []);
      for (const value of values) {
        const option = document.createElement('option');
        option.value = JSON.stringify(value);
        select.appendChild(option);
      }
      select.addEventListener('change', () => this._chosen.add(field.name));
      return select;
    }
    const input = document.createElement('input');
    input.type =
      field.type === 'integer' || field.type === 'number' ? 'number' : 'text';
    if (input.type === 'number') {
      input.step = field.type === 'integer' ? '1' : 'any';
      if (field.minimum !== undefined) {
        input.min = String(field.minimum);
      }
      if (field.maximum !== undefined) {
        input.max = String(field.maximum);
      }
    }
    if (field.name === 'n_workers') {
      // The memory placeholder says how many workers share the machine.
      input.addEventListener('input', () => this._showDefaults());
    }
    return input;
  }

  /** Write each field's default into its placeholder (or option), and preselect it. */
  private _showDefaults(): void {
    const trans = this._trans;
    this._name.placeholder = trans.__(
      '%1 (default)',
      defaultClusterName(this._names)
    );
    const workersField = this.profile.fields.find(f => f.name === 'n_workers');
    const typed = Number(this._controls.get('n_workers')?.value.trim());
    const workers =
      Number.isInteger(typed) && typed > 0
        ? typed
        : Number(this._setting('n_workers') ?? workersField?.default ?? 1);
    for (const field of this.profile.fields) {
      const control = this._controls.get(field.name)!;
      const fallback = this._setting(field.name) ?? field.default;
      if (control instanceof HTMLSelectElement) {
        for (const option of control.options) {
          const value = JSON.parse(option.value);
          const text = this._optionText(field, value);
          option.textContent =
            value === fallback ? trans.__('%1 (default)', text) : text;
        }
        if (
          !this._chosen.has(field.name) &&
          fallback !== null &&
          fallback !== undefined
        ) {
          control.value = JSON.stringify(fallback);
        }
      } else {
        control.placeholder = placeholder(
          field,
          fallback,
          this.profile.kind,
          workers,
          trans
        );
        control.title = `${field.description}: ${control.placeholder}`;
      }
    }
  }

  private _optionText(field: IProfileField, value: unknown): string {
    if (field.name === 'processes' && field.type === 'boolean') {
      return value ? this._trans.__('Processes') : this._trans.__('Threads');
    }
    if (field.type === 'boolean') {
      return value ? this._trans.__('Yes') : this._trans.__('No');
    }
    return String(value);
  }

  private _prefix = Private.nextId();
  private _trans: TranslationBundle;
  private _name: HTMLInputElement;
  private _profile: HTMLSelectElement;
  private _profileField: HTMLElement;
  private _fields: HTMLElement;
  private _controls = new Map<string, Control>();
  private _chosen = new Set<string>(); // selects the user changed
  private _profiles: IProfile[] = [];
  private _formError: HTMLElement;
  private _settings: IClusterRequest = {};
  private _names: string[] = [];
  private _submitted: (() => void) | null = null;
}

namespace Private {
  let counter = 0;
  export function nextId(): string {
    return `jp-ClusterCraft-form${counter++}`;
  }
}
