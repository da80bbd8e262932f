/**
 * Where the focus and the view go when the panel changes under the user.
 */

/**
 * Give the focus back to what opened a dialog, when closing it left the
 * focus nowhere (on the page's body).
 */
export function restoreFocus(opener: Element | null): void {
  const active = document.activeElement;
  if (
    opener instanceof HTMLElement &&
    opener.isConnected &&
    (!active || active === document.body)
  ) {
    opener.focus();
  }
}

/**
 * Scroll the nearest scrolling ancestor of `element` (up to `root`) so the
 * element shows, its top first when it is taller than the view. The page
 * itself is not scrolled, as `Element.scrollIntoView` might.
 */
export function scrollIntoView(element: HTMLElement, root: HTMLElement): void {
  let scroller = element.parentElement;
  while (scroller && scroller !== root.parentElement) {
    const overflow = getComputedStyle(scroller).overflowY;
    if (
      (overflow === 'auto' || overflow === 'scroll') &&
      scroller.scrollHeight > scroller.clientHeight
    ) {
      break;
    }
    scroller = scroller.parentElement;
  }
  if (!scroller || scroller === root.parentElement) {
    return;
  }
  const view = scroller.getBoundingClientRect();
  const box = element.getBoundingClientRect();
  if (box.top < view.top || box.height > view.height) {
    scroller.scrollTop += box.top - view.top;
  } else if (box.bottom > view.bottom) {
    scroller.scrollTop += box.bottom - view.bottom;
  }
}
