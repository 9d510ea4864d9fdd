// The top bar's menu on a phone: below 700 px the sound, desktop-alert
// and sign-out buttons fold into one menu button, so the bar is one row
// and the map and the queue keep the screen. Wider, the buttons are in the
// bar and the menu button is not shown. The menu opens below the bar;
// Escape, a click outside it or choosing an item closes it, and focus
// goes back to the menu button.

/**
 * @param {{toggle: HTMLButtonElement, panel: HTMLElement, phone: MediaQueryList}} o
 * @returns {{close: () => void, isOpen: () => boolean}}
 */
export function createMenu(o) {
  const { toggle, panel, phone } = o;
  const items = () => [...panel.querySelectorAll('button')].filter((b) => !b.hidden);

  function open() {
    toggle.setAttribute('aria-expanded', 'true');
    panel.dataset.open = 'true';
    items()[0]?.focus();
  }

  function close(returnFocus = false) {
    if (!isOpen()) return;
    toggle.setAttribute('aria-expanded', 'false');
    delete panel.dataset.open;
    if (returnFocus) toggle.focus();
  }

  function isOpen() {
    return panel.dataset.open === 'true';
  }

  toggle.addEventListener('click', () => (isOpen() ? close(true) : open()));
  // Choosing an item does what it does (its own listener) and closes.
  panel.addEventListener('click', (e) => {
    if (phone.matches && e.target.closest('button')) close(false);
  });
  for (const el of [toggle, panel]) {
    el.addEventListener('keydown', (e) => {
      if (!isOpen()) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation(); // the page's Escape (close the detail) waits for the next one
        close(true);
        return;
      }
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        const list = items();
        const at = list.indexOf(document.activeElement);
        const next = e.key === 'ArrowDown' ? (at + 1) % list.length : (at - 1 + list.length) % list.length;
        e.preventDefault();
        list[next]?.focus();
      }
    });
  }
  document.addEventListener('pointerdown', (e) => {
    if (isOpen() && !panel.contains(e.target) && !toggle.contains(e.target)) close(false);
  });
  panel.addEventListener('focusout', (e) => {
    if (isOpen() && e.relatedTarget && !panel.contains(e.relatedTarget) && e.relatedTarget !== toggle) close(false);
  });
  phone.addEventListener('change', () => close(false));

  return { close: () => close(false), isOpen };
}
