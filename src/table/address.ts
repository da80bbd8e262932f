/**
 * An address shown in little room: the ellipsis goes in the middle, so the
 * port and path stay readable ("tcp://127.0…:40331"), with a button that
 * copies the whole address.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { checkIcon, copyIcon } from '@jupyterlab/ui-components';

export const CLASS = {
  address: 'jp-ClusterCraft-address',
  text: 'jp-ClusterCraft-addressText',
  head: 'jp-ClusterCraft-addressHead',
  tail: 'jp-ClusterCraft-addressTail',
  copy: 'jp-ClusterCraft-copyButton',
  link: 'jp-ClusterCraft-link'
};

/** How long the copy button shows its check mark, in ms. */
const COPIED_FOR = 1500;
/** The most characters of a port, or of a last path segment, kept whole at the end. */
const MAX_PORT = 8;
const MAX_SEGMENT = 12;
const DEFAULT_TAIL = 10;

/**
 * Split an address where the ellipsis may go: the tail is the port
 * ("tcp://127.0.0.1|:40331"), else a short last path segment
 * ("http://127.0.0.1:8787|/status"), else the last few characters.
 */
export function splitAddress(address: string): [string, string] {
  const start = address.indexOf('://') + 3;
  const colon = address.lastIndexOf(':');
  const slash = address.lastIndexOf('/');
  let cut: number;
  if (colon >= start && address.length - colon <= MAX_PORT) {
    cut = colon;
  } else if (slash >= start && address.length - slash <= MAX_SEGMENT) {
    cut = slash;
  } else {
    cut = Math.max(0, address.length - DEFAULT_TAIL);
  }
  return [address.slice(0, cut), address.slice(cut)];
}

/**
 * Put `text` on the clipboard: through the Clipboard API where the page may
 * use it, else by copying a selection (a page served over plain HTTP).
 */
export function copyText(text: string): void {
  if (window.isSecureContext && navigator.clipboard) {
    void navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  const focused = document.activeElement as HTMLElement | null;
  document.body.appendChild(area);
  area.select();
  document.execCommand('copy');
  area.remove();
  focused?.focus();
}

export class AddressText {
  constructor(options: AddressText.IOptions) {
    const trans = options.trans ?? nullTranslator.load('clustercraft');
    this.node = document.createElement('span');
    this.node.className = CLASS.address;
    if (options.link) {
      const anchor = document.createElement('a');
      anchor.className = `${CLASS.text} ${CLASS.link}`;
      anchor.target = '_blank';
      anchor.rel = 'noopener noreferrer';
      this._text = anchor;
    } else {
      this._text = document.createElement('span');
      this._text.className = CLASS.text;
    }
    this._head = document.createElement('span');
    this._head.className = CLASS.head;
    this._tail = document.createElement('span');
    this._tail.className = CLASS.tail;
    this._text.append(this._head, this._tail);

    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = CLASS.copy;
    copy.setAttribute('aria-label', options.copyLabel);
    copy.title = options.copyLabel;
    copy.appendChild(copyIcon.element({ tag: 'span' }));
    copy.addEventListener('click', () => this._copy(trans));
    this._copyButton = copy;
    this.node.append(this._text, copy);
    this.update('');
  }

  readonly node: HTMLSpanElement;

  /** The address shown and copied. */
  get address(): string {
    return this._address;
  }

  /** Show `address` ('' or null: a dash, nothing to copy); a link goes to `href`. */
  update(address: string | null, href: string | null = address): void {
    const text = address ?? '';
    if (text === this._address && href === this._href) {
      return;
    }
    this._address = text;
    this._href = href;
    const [head, tail] = text ? splitAddress(text) : ['–', ''];
    this._head.textContent = head;
    this._tail.textContent = tail;
    this._text.title = text;
    this._copyButton.hidden = !text;
    if (this._text instanceof HTMLAnchorElement) {
      if (text && href) {
        this._text.href = href;
      } else {
        this._text.removeAttribute('href');
      }
    }
  }

  private _copy(trans: TranslationBundle): void {
    if (!this._address) {
      return;
    }
    copyText(this._address);
    const button = this._copyButton;
    const label = button.getAttribute('aria-label') ?? '';
    button.replaceChildren(checkIcon.element({ tag: 'span' }));
    button.title = trans.__('Copied');
    clearTimeout(this._copiedTimer);
    this._copiedTimer = setTimeout(() => {
      button.replaceChildren(copyIcon.element({ tag: 'span' }));
      button.title = label;
    }, COPIED_FOR);
  }

  private _text: HTMLElement;
  private _head: HTMLSpanElement;
  private _tail: HTMLSpanElement;
  private _copyButton: HTMLButtonElement;
  private _address = '\0';
  private _href: string | null = null;
  private _copiedTimer: ReturnType<typeof setTimeout> | undefined = undefined;
}

export namespace AddressText {
  export interface IOptions {
    /** The copy button's accessible name, e.g. "Copy the scheduler address". */
    copyLabel: string;
    /** Show the address as a link (to `href` given to `update`). */
    link?: boolean;
    trans?: TranslationBundle;
  }
}
