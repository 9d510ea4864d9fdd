// Alerts for new urgent incidents (critical, or SOS): the count in the tab
// title and the top bar until acknowledged, an optional sound and an
// optional desktop notification. Browsers allow sound and notifications
// only after a click, so both start off and are switched on by buttons.
import { fill, h } from './dom.js';
import { Alerts, titleWith } from './triage.js';

const BASE_TITLE = 'Sety operations console';

/**
 * @param {{button: HTMLButtonElement, sound: HTMLButtonElement, notify: HTMLButtonElement, onOpen: (id: string) => void}} o
 */
export function createAlerts(o) {
  let alerts = new Alerts();
  let audio = null;
  let newest = '';

  function render() {
    const n = alerts.count;
    document.title = titleWith(n, BASE_TITLE);
    o.button.hidden = n === 0;
    // A phone's one-row top bar shows "⚠ n"; the words are there wider.
    const words = n === 1 ? ' new urgent incident' : ' new urgent incidents';
    fill(o.button, h('span', { 'aria-hidden': 'true' }, '⚠ '), String(n), h('span', { class: 'alert-words' }, words));
    o.button.setAttribute('aria-label', `${n}${words}: open the newest and acknowledge`);
  }

  function beep() {
    if (!audio) return;
    const now = audio.currentTime;
    for (const [at, freq] of [[0, 880], [0.22, 660]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.2);
    }
  }

  function notify(inc, text) {
    if (o.notify.getAttribute('aria-pressed') !== 'true' || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const n = new Notification('Sety: new urgent incident', { body: text, tag: inc.incident_id });
    n.onclick = () => {
      window.focus();
      o.onOpen(inc.incident_id);
    };
  }

  o.button.addEventListener('click', () => {
    const id = newest;
    alerts.acknowledgeAll();
    render();
    if (id) o.onOpen(id);
  });
  o.sound.addEventListener('click', () => {
    const on = o.sound.getAttribute('aria-pressed') !== 'true';
    if (on && !audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) audio = new Ctx();
    }
    o.sound.setAttribute('aria-pressed', String(on && !!audio));
    if (on) beep();
  });
  o.notify.hidden = typeof Notification === 'undefined';
  o.notify.addEventListener('click', async () => {
    if (o.notify.getAttribute('aria-pressed') === 'true') {
      o.notify.setAttribute('aria-pressed', 'false');
      return;
    }
    const granted = Notification.permission === 'granted' || (await Notification.requestPermission()) === 'granted';
    o.notify.setAttribute('aria-pressed', String(granted));
    o.notify.title = granted ? 'Desktop notifications on' : 'The browser refused notifications: allow them in its site settings';
  });

  return {
    /** Starts over (a new sign-in) with the incidents already there: no alert for those. */
    reset(incidents = []) {
      alerts = new Alerts();
      alerts.baseline(incidents);
      newest = '';
      render();
    },
    /** Sees an incident (new or updated); alerts when it is new and urgent. */
    observe(inc, text) {
      if (!alerts.observe(inc)) {
        render();
        return false;
      }
      newest = inc.incident_id;
      render();
      beep();
      notify(inc, text);
      return true;
    },
    acknowledge(id) {
      if (alerts.acknowledge(id)) render();
    },
    isPending: (id) => alerts.pending.has(id),
    get count() {
      return alerts.count;
    },
  };
}
