// `npm install` and `npm ci` run this (the package's `prepare` script): build the web app so
// `npm start` serves it. An install without dev dependencies (the Docker image's runtime stage)
// has no Vite: it says so and leaves the build to the image's build stage.
import { createRequire } from "node:module";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
let vitePackage;
try {
  vitePackage = require.resolve("vite/package.json");
} catch {
  console.log("coachwire: vite is not installed (production install); skipping the web build");
  process.exit(0);
}
const run = spawnSync(process.execPath, [join(dirname(vitePackage), "bin", "vite.js"), "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
  stdio: "inherit",
});
process.exit(run.status ?? 1);
