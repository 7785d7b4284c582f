import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import type { HttpRequest } from "../server/http/route.ts";
import { loadStaticSite, type StaticSite } from "../server/http/static-files.ts";

// The web app's files as the server answers them: in memory, gzip/brotli by Accept-Encoding,
// immutable hashed assets, index.html for client routes but never for server paths.

const get = (path: string, headers: Record<string, string> = {}, method = "GET"): HttpRequest => ({
  method,
  path,
  query: new URLSearchParams(),
  params: {},
  headers,
  ip: "127.0.0.1",
  body: Buffer.alloc(0),
});
const bytes = (body: unknown) => Buffer.from(body as Uint8Array);

describe("static files", () => {
  let dir: string;
  let site: StaticSite;
  const js = "console.log('coachwire');".repeat(50);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "coachwire-static-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><div id=app></div>");
    writeFileSync(join(dir, "assets", "index-abc123.js"), js);
    // The build's own precompressed form is used as is (here a marker that differs from a fresh gzip).
    writeFileSync(join(dir, "assets", "index-abc123.js.gz"), gzipSync("PRECOMPRESSED"));
    writeFileSync(join(dir, "favicon.svg"), "<svg/>");
    site = loadStaticSite(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("hashed assets: brotli, then gzip, then identity; immutable; the build's .gz is served", () => {
    const br = site.reply(get("/assets/index-abc123.js", { "accept-encoding": "gzip, deflate, br" }))!;
    assert.equal(br.headers!["content-encoding"], "br");
    assert.equal(brotliDecompressSync(bytes(br.body)).toString(), js);
    assert.equal(br.headers!["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(br.headers!["vary"], "accept-encoding");
    assert.match(br.contentType!, /^text\/javascript/);
    const gz = site.reply(get("/assets/index-abc123.js", { "accept-encoding": "gzip" }))!;
    assert.equal(gunzipSync(bytes(gz.body)).toString(), "PRECOMPRESSED");
    const plain = site.reply(get("/assets/index-abc123.js"))!;
    assert.equal(plain.headers!["content-encoding"], undefined);
    assert.equal(bytes(plain.body).toString(), js);
  });

  test("index.html for / and client routes, revalidated, with the security headers", () => {
    for (const path of ["/", "/rooms/r1", "/coach/tasks/t_1", "/join"]) {
      const r = site.reply(get(path))!;
      assert.equal(r.status, 200, path);
      assert.match(bytes(r.body).toString(), /id=app/);
      assert.equal(r.headers!["cache-control"], "no-cache");
      assert.match(r.headers!["content-security-policy"]!, /default-src 'self'.*frame-ancestors 'none'/);
      assert.equal(r.headers!["x-content-type-options"], "nosniff");
      assert.equal(r.headers!["referrer-policy"], "no-referrer");
    }
  });

  test("server paths and other methods are not the app's; a missing file is a 404", () => {
    for (const path of ["/api/rooms", "/api/", "/socket.io/", "/healthz", "/readyz", "/metrics"]) assert.equal(site.reply(get(path)), undefined, path);
    assert.equal(site.reply(get("/", {}, "POST")), undefined);
    assert.equal(site.reply(get("/assets/nope.js"))!.status, 404);
    assert.equal(site.reply(get("/favicon.svg"))!.headers!["cache-control"], "no-cache");
  });

  test("without a build, every app path explains how to build it", () => {
    const empty = mkdtempSync(join(tmpdir(), "coachwire-static-empty-"));
    try {
      const none = loadStaticSite(empty);
      assert.equal(none.built, false);
      assert.match(bytes(none.reply(get("/"))!.body).toString(), /npm run build:web/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
