// jsdom lacks a few browser globals that Lumino touches at import time.
if (typeof globalThis.DragEvent === 'undefined') {
  globalThis.DragEvent = class DragEvent extends MouseEvent {};
}
// @jupyterlab/ui-components' web components read media queries when imported.
if (typeof window !== 'undefined' && typeof window.matchMedia !== 'function') {
  window.matchMedia = query => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => undefined,
    removeListener: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    dispatchEvent: () => false
  });
}
// Dialog headers are React widgets, which render when the browser is idle.
if (typeof globalThis.requestIdleCallback !== 'function') {
  globalThis.requestIdleCallback = callback => setTimeout(callback, 0);
}
