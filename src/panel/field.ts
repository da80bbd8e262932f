/**
 * A labelled form field with a place for the server's message about it, as
 * the new-cluster form and the Scale dialog show them: the control is marked
 * invalid and described by the message.
 */

export const CLASS = {
  field: 'jp-ClusterCraft-field',
  fieldError: 'jp-ClusterCraft-fieldError',
  formError: 'jp-ClusterCraft-formError',
  invalid: 'jp-mod-invalid'
};

/**
 * Append `label` and `control` (given the id `id`) to `parent`, with an empty
 * message element that describes the control.
 */
export function appendField(
  parent: HTMLElement,
  id: string,
  label: string,
  control: HTMLElement
): HTMLElement {
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
  parent.appendChild(wrapper);
  return wrapper;
}

/** An element for a message that names no field. */
export function createFormError(): HTMLElement {
  const element = document.createElement('div');
  element.className = CLASS.formError;
  element.setAttribute('role', 'alert');
  return element;
}

/** The message element of a control made by `appendField`. */
function errorOf(control: HTMLElement): HTMLElement | null {
  return (
    control.parentElement?.querySelector<HTMLElement>(`.${CLASS.fieldError}`) ??
    null
  );
}

/** Show `message` by the control and mark it invalid. */
export function showFieldError(control: HTMLElement, message: string): void {
  control.classList.add(CLASS.invalid);
  control.setAttribute('aria-invalid', 'true');
  const error = errorOf(control);
  if (error) {
    error.textContent = message;
  }
}

export function clearFieldError(control: HTMLElement): void {
  control.classList.remove(CLASS.invalid);
  control.removeAttribute('aria-invalid');
  const error = errorOf(control);
  if (error) {
    error.textContent = '';
  }
}
