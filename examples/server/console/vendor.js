// Copies the built files of Leaflet and Leaflet.markercluster from
// node_modules into static/vendor, where the Go package embeds them. Run
// `npm ci && npm run vendor` after changing a pinned version in
// package.json; commit the result.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function vendor(pkg, files, images) {
  const from = join(here, 'node_modules', pkg);
  const to = join(here, 'static', 'vendor', pkg);
  const { version } = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  copyFileSync(join(from, files.license), join(to, 'LICENSE'));
  for (const f of files.dist) copyFileSync(join(from, 'dist', f), join(to, f));
  if (images) {
    mkdirSync(join(to, 'images'), { recursive: true });
    for (const f of readdirSync(join(from, 'dist', 'images'))) copyFileSync(join(from, 'dist', 'images', f), join(to, 'images', f));
  }
  console.log(`vendored ${pkg} ${version} into ${to}`);
}

vendor('leaflet', { license: 'LICENSE', dist: ['leaflet.js', 'leaflet.css'] }, true);
vendor('leaflet.markercluster', { license: 'MIT-LICENCE.txt', dist: ['leaflet.markercluster.js', 'MarkerCluster.css', 'MarkerCluster.Default.css'] }, false);
