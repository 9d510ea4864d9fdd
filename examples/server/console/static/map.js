// The Leaflet map: an optional tile layer over a drawn graticule (so the
// map is usable offline, with no tiles), panes for the overlays, a legend.
import { h } from './dom.js';
import { RESPONDER_COLOR, SEVERITY_COLOR, ZONE_COLOR } from './format.js';

const L = window.L;

export const LAGOS = [6.45, 3.4];

// Degrees between graticule lines, finest first.
const STEPS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];

function stepFor(zoom) {
  const pxPerDeg = (256 * 2 ** zoom) / 360;
  return STEPS.find((s) => s * pxPerDeg >= 110) || 30;
}

function degText(v, pos, neg, step) {
  const digits = step < 0.01 ? 3 : step < 0.1 ? 2 : step < 1 ? 1 : 0;
  return `${Math.abs(v).toFixed(digits)}°${v >= 0 ? pos : neg}`;
}

/** A graticule drawn on canvas tiles: the background when there are no map tiles. */
const Graticule = L.GridLayer.extend({
  createTile(coords) {
    const size = this.getTileSize();
    const tile = document.createElement('canvas');
    const ratio = window.devicePixelRatio || 1;
    tile.width = size.x * ratio;
    tile.height = size.y * ratio;
    const ctx = tile.getContext('2d');
    ctx.scale(ratio, ratio);
    const map = this._map;
    const z = coords.z;
    const nw = map.unproject([coords.x * size.x, coords.y * size.y], z);
    const se = map.unproject([(coords.x + 1) * size.x, (coords.y + 1) * size.y], z);
    const step = stepFor(z);
    ctx.fillStyle = '#f4f1ea';
    ctx.fillRect(0, 0, size.x, size.y);
    ctx.font = '11px system-ui, sans-serif';
    const origin = L.point(coords.x * size.x, coords.y * size.y);
    for (let lng = Math.ceil(nw.lng / step) * step; lng <= se.lng; lng += step) {
      const x = map.project([0, lng], z).x - origin.x;
      const major = Math.abs(Math.round(lng / step) % 5) === 0;
      ctx.strokeStyle = major ? '#c9c1b0' : '#e0d9ca';
      ctx.lineWidth = major ? 1.2 : 1;
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, 0);
      ctx.lineTo(Math.round(x) + 0.5, size.y);
      ctx.stroke();
      const lngText = degText(lng, 'E', 'W', step);
      if (coords.y % 3 === 0 && x + 3 + ctx.measureText(lngText).width < size.x) {
        ctx.fillStyle = '#6b6356';
        ctx.fillText(lngText, x + 3, 12);
      }
    }
    for (let lat = Math.ceil(se.lat / step) * step; lat <= nw.lat; lat += step) {
      const y = map.project([lat, 0], z).y - origin.y;
      const major = Math.abs(Math.round(lat / step) % 5) === 0;
      ctx.strokeStyle = major ? '#c9c1b0' : '#e0d9ca';
      ctx.lineWidth = major ? 1.2 : 1;
      ctx.beginPath();
      ctx.moveTo(0, Math.round(y) + 0.5);
      ctx.lineTo(size.x, Math.round(y) + 0.5);
      ctx.stroke();
      if (coords.x % 3 === 0 && y > 14) {
        ctx.fillStyle = '#6b6356';
        ctx.fillText(degText(lat, 'N', 'S', step), 3, y - 3);
      }
    }
    return tile;
  },
});

/**
 * @param {HTMLElement} el
 * @param {{tiles: string, tile_attribution: string}} cfg
 * @param {boolean} [compact]  a small screen: the legend starts folded
 */
export function createMap(el, cfg, compact = false) {
  const map = L.map(el, {
    center: LAGOS,
    zoom: 12,
    minZoom: 3,
    maxZoom: 18,
    zoomControl: true,
    keyboard: true,
    worldCopyJump: true,
  });
  map.attributionControl.setPrefix('<a href="vendor/leaflet/LICENSE">Leaflet</a>');
  new Graticule({ zIndex: 0, maxZoom: 18 }).addTo(map);
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, { zIndex: 1, maxZoom: 19, attribution: cfg.tile_attribution || '' }).addTo(map);
  }
  // Panes, bottom to top: heatmap, zones, route, then Leaflet's markers.
  for (const [name, z] of [['heat', 410], ['zones', 420], ['route', 430], ['responders', 590]]) {
    map.createPane(name).style.zIndex = String(z);
  }
  const renderers = {
    heat: L.canvas({ pane: 'heat', padding: 0.2 }),
    zones: L.svg({ pane: 'zones' }),
    route: L.svg({ pane: 'route' }),
    responders: L.svg({ pane: 'responders' }),
  };
  L.control.scale({ imperial: false }).addTo(map);
  legend(compact).addTo(map);
  return { map, renderers };
}

function legend(compact) {
  const c = L.control({ position: 'bottomleft' });
  c.onAdd = () => {
    const sw = (color, text, square) =>
      h('span', { class: 'legend-item' }, h('span', { class: square ? 'sw sq' : 'sw', style: { background: color } }), text, ' ');
    const group = (title, ...items) => h('div', { class: 'legend-group' }, h('h3', {}, title), ...items);
    const div = h(
      'details',
      { class: 'legend', open: !compact },
      h('summary', {}, 'Legend'),
      group('Incidents (severity)', ...Object.entries(SEVERITY_COLOR).map(([k, v]) => sw(v, k))),
      group('Responders', sw(RESPONDER_COLOR.available, 'available'), sw(RESPONDER_COLOR.busy, 'busy'),
        sw(RESPONDER_COLOR.offline, 'offline'), sw(RESPONDER_COLOR.busy, 'on an incident', true)),
      group('Danger zones', ...Object.entries(ZONE_COLOR).map(([k, v]) => sw(v, k, true))),
      group('Heatmap (log scale)', 'low ', h('span', { class: 'ramp' }), ' high'),
    );
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  return c;
}
