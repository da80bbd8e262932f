import { nullTranslator } from '@jupyterlab/translation';

import { APIError } from '../api';
import { restoreFocus } from '../panel/focus';
import { ScaleDialog } from '../panel/scaleDialog';
import { cluster } from './fixtures';

const trans = nullTranslator.load('clustercraft');

/** Launch a dialog and wait until it is in the page. */
async function open(dialog: ScaleDialog) {
  const result = dialog.launch();
  await dialog.ready;
  return result;
}

const type = (input: HTMLInputElement, value: string) => {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
};

describe('ScaleDialog', () => {
  it('focuses the first field, not the Scale button', async () => {
    const dialog = new ScaleDialog({
      cluster: cluster('a'),
      trans,
      submit: jest.fn()
    });
    const result = open(dialog);
    await dialog.ready;
    expect(document.activeElement).toBe(dialog.fields.input('n_workers'));
    dialog.reject();
    expect((await result).button.accept).toBe(false);
  });

  it('keeps a refused value and shows the message by its field', async () => {
    const submit = jest
      .fn()
      .mockRejectedValueOnce(
        new APIError(
          'adapt.minimum must not exceed adapt.maximum',
          400,
          'adapt.minimum'
        )
      )
      .mockResolvedValueOnce(cluster('a'));
    const dialog = new ScaleDialog({ cluster: cluster('a'), trans, submit });
    const result = open(dialog);
    await dialog.ready;
    const minimum = dialog.fields.input('adapt.minimum');
    const maximum = dialog.fields.input('adapt.maximum');
    type(minimum, '3');
    type(maximum, '2');
    dialog.resolve(1);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(submit).toHaveBeenCalledWith({ adapt: { minimum: 3, maximum: 2 } });
    // Still open, with what was typed and the server's words by the field.
    expect(dialog.isAttached).toBe(true);
    expect(minimum.value).toBe('3');
    expect(maximum.value).toBe('2');
    expect(minimum.getAttribute('aria-invalid')).toBe('true');
    const message = document.getElementById(
      minimum.getAttribute('aria-describedby')!
    )!;
    expect(message.textContent).toBe(
      'adapt.minimum must not exceed adapt.maximum'
    );
    expect(maximum.getAttribute('aria-invalid')).toBeNull();
    // Corrected, it goes through and closes with the request.
    type(minimum, '1');
    dialog.resolve(1);
    const { button, value } = await result;
    expect(button.accept).toBe(true);
    expect(value).toEqual({ adapt: { minimum: 1, maximum: 2 } });
    expect(submit).toHaveBeenCalledTimes(2);
    expect(dialog.isDisposed).toBe(true);
  });

  it('shows a message that names no field under the fields', async () => {
    const submit = jest
      .fn()
      .mockRejectedValue(new APIError('The Jupyter server is unreachable.', 0));
    const dialog = new ScaleDialog({ cluster: cluster('a'), trans, submit });
    const result = open(dialog);
    await dialog.ready;
    dialog.resolve(1);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(
      dialog.node.querySelector('.jp-ClusterCraft-formError')!.textContent
    ).toBe('The Jupyter server is unreachable.');
    dialog.reject();
    expect((await result).button.accept).toBe(false);
  });

  it('gives the focus back to the button that opened it', async () => {
    const opener = document.createElement('button');
    document.body.appendChild(opener);
    opener.focus();
    const dialog = new ScaleDialog({
      cluster: cluster('a'),
      trans,
      submit: jest.fn()
    });
    const result = open(dialog);
    await dialog.ready;
    expect(document.activeElement).not.toBe(opener);
    dialog.reject();
    await result;
    expect(document.activeElement).toBe(opener);
    opener.remove();
  });
});

describe('restoreFocus', () => {
  it('focuses the opener only when the focus was left nowhere', () => {
    const opener = document.createElement('button');
    const other = document.createElement('input');
    document.body.append(opener, other);
    (document.activeElement as HTMLElement | null)?.blur();
    restoreFocus(opener);
    expect(document.activeElement).toBe(opener);
    other.focus();
    restoreFocus(opener);
    expect(document.activeElement).toBe(other);
    opener.remove();
    other.remove();
  });
});
