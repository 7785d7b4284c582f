import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import type { HttpReply, HttpRequest } from "./route.ts";

/**
 * The web app's files (web/dist, built by `npm run build:web`), served by the server itself.
 * Every file is read once at start-up and kept in memory with its gzip and brotli forms (the
 * build writes them beside each file; a missing one is made here once). Hashed assets are
 * immutable; index.html is revalidated on every load, and answers every client route.
 */

/** Where `vite build` writes the app (see web/vite.config.ts). */
export const WEB_DIST = new URL("../../web/dist/", import.meta.url).pathname;

/** Paths that belong to the server, never to the app's HTML fallback. */
const SERVER_PATHS = ["/api/", "/socket.io/", "/healthz", "/readyz", "/metrics"];

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".json", ".svg", ".webmanifest", ".txt"]);

/**
 * No inline script or style anywhere in the app: scripts and styles come from this origin only,
 * the socket goes to this origin, and no one may frame it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

interface StaticFile {
  type: string;
  raw: Buffer;
  gzip: Buffer | undefined;
  br: Buffer | undefined;
  cacheControl: string;
}

/** Answers GET requests for the app's files; undefined means "not mine" (a server path). */
export interface StaticSite {
  readonly built: boolean;
  reply(req: HttpRequest): HttpReply | undefined;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>coachwire</title>
<h1>The web app is not built</h1><p>Run <code>npm run build:web</code> (or <code>npm install</code>) and start the server again.
The API is at <code>/api/</code>; see docs/api.md.</p></html>`;

function walk(dir: string): string[] {
  // Dot entries (the build's .vite/ manifest) are not part of the site.
  return readdirSync(dir).flatMap((name) => {
    if (name.startsWith(".")) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function compressed(path: string, raw: Buffer, ext: string, kind: "gz" | "br"): Buffer | undefined {
  if (existsSync(`${path}.${kind}`)) return readFileSync(`${path}.${kind}`);
  if (!COMPRESSIBLE.has(ext)) return undefined;
  return kind === "gz" ? gzipSync(raw, { level: 9 }) : brotliCompressSync(raw);
}

/** Reads the built app into memory (once). A missing build serves a page that says how to build it. */
export function loadStaticSite(dir: string = WEB_DIST): StaticSite {
  const files = new Map<string, StaticFile>();
  if (existsSync(join(dir, "index.html"))) {
    for (const path of walk(dir)) {
      if (path.endsWith(".gz") || path.endsWith(".br")) continue;
      const ext = extname(path);
      const urlPath = "/" + relative(dir, path).split(sep).join("/");
      const raw = readFileSync(path);
      files.set(urlPath, {
        type: TYPES[ext] ?? "application/octet-stream",
        raw,
        gzip: compressed(path, raw, ext, "gz"),
        br: compressed(path, raw, ext, "br"),
        // Vite puts content hashes in every name under assets/: such a name never changes meaning.
        cacheControl: urlPath.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      });
    }
  }
  const built = files.has("/index.html");
  const index = files.get("/index.html") ?? {
    type: TYPES[".html"]!,
    raw: Buffer.from(NOT_BUILT),
    gzip: undefined,
    br: undefined,
    cacheControl: "no-store",
  };

  return {
    built,
    reply(req) {
      if (req.method !== "GET" || SERVER_PATHS.some((p) => req.path === p.replace(/\/$/, "") || req.path.startsWith(p))) return undefined;
      const file = files.get(req.path === "/" ? "/index.html" : req.path);
      if (file) return answer(file, req);
      // A path with a file extension is a missing file; anything else is a route of the app.
      if (extname(req.path) !== "") return { status: 404, body: "Not found", headers: { ...SECURITY_HEADERS } };
      return answer(index, req);
    },
  };
}

/** The best encoding the client accepts: brotli, then gzip, then none. */
function answer(file: StaticFile, req: HttpRequest): HttpReply {
  const accepts = (req.headers["accept-encoding"] ?? "").toLowerCase();
  const [body, encoding] =
    file.br && /\bbr\b/.test(accepts) ? [file.br, "br"] : file.gzip && /\bgzip\b/.test(accepts) ? [file.gzip, "gzip"] : [file.raw, undefined];
  const headers: Record<string, string> = { ...SECURITY_HEADERS, "cache-control": file.cacheControl, vary: "accept-encoding" };
  if (encoding) headers["content-encoding"] = encoding;
  return { status: 200, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), contentType: file.type, headers };
}
