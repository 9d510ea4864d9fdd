// Copies Swagger UI's browser bundle from node_modules into
// static/swagger-ui, where the Go package embeds it. Run
// `npm ci && npm run vendor` after changing the pinned version in
// package.json; commit the result.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const from = join(here, 'node_modules', 'swagger-ui-dist');
const to = join(here, 'static', 'swagger-ui');
const { version } = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));

rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const f of ['LICENSE', 'NOTICE', 'swagger-ui-bundle.js', 'swagger-ui.css']) copyFileSync(join(from, f), join(to, f));
console.log(`vendored swagger-ui-dist ${version} into ${to}`);
