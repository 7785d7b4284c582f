// Reports the JS + CSS a route downloads, gzipped (as the server sends it with Accept-Encoding: gzip),
// from the build's manifest: the entry's chunks plus, for a lazy screen, that screen's chunks.
//   npm run build:web && node web/bundle-size.mjs
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const dist = new URL("./dist/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));

function files(key, seen = new Set()) {
  const chunk = manifest[key];
  if (!chunk || seen.has(key)) return seen;
  seen.add(key);
  for (const dep of chunk.imports ?? []) files(dep, seen);
  return seen;
}

function size(keys) {
  const out = new Set();
  for (const key of keys) {
    const chunk = manifest[key];
    out.add(chunk.file);
    for (const css of chunk.css ?? []) out.add(css);
  }
  let raw = 0;
  let gz = 0;
  for (const file of out) {
    const bytes = readFileSync(new URL(file, dist));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: [...out].sort(), raw, gz };
}

const entry = files("index.html");
const routes = {
  "student room (/rooms/:id)": entry,
  "coach board (/coach/tasks/:id)": new Set([...entry, ...files("src/board/board-page.tsx")]),
  "coach task form (/coach/rooms/:id/tasks/new)": new Set([...entry, ...files("src/coach/task-form.tsx")]),
  "coach join code (/coach/rooms/:id/code)": new Set([...entry, ...files("src/coach/join-code-page.tsx")]),
  "admin screens (/admin/…)": new Set([...entry, ...files("src/admin/admin-screens.tsx")]),
};
for (const [route, keys] of Object.entries(routes)) {
  const s = size(keys);
  console.log(`${route}: ${(s.gz / 1024).toFixed(1)} KiB gzipped JS+CSS (${(s.raw / 1024).toFixed(1)} KiB raw) — ${s.files.join(", ")}`);
}
