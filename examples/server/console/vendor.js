// Copies Leaflet's built files from node_modules into static/vendor/leaflet,
// where the Go package embeds them. Run `npm ci && npm run vendor` after
// changing the pinned version in package.json; commit the result.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const from = join(here, 'node_modules', 'leaflet');
const to = join(here, 'static', 'vendor', 'leaflet');
const { version } = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));

rmSync(to, { recursive: true, force: true });
mkdirSync(join(to, 'images'), { recursive: true });
copyFileSync(join(from, 'LICENSE'), join(to, 'LICENSE'));
for (const f of ['leaflet.js', 'leaflet.css']) copyFileSync(join(from, 'dist', f), join(to, f));
for (const f of readdirSync(join(from, 'dist', 'images'))) {
  copyFileSync(join(from, 'dist', 'images', f), join(to, 'images', f));
}
console.log(`vendored leaflet ${version} into ${to}`);
