// Builds the static verifier into one self-contained page, bctrace/web/static/index.html:
// the bundled script and the stylesheet are inlined. esbuild's output is deterministic, so the
// same lockfile gives the same bytes (tests/web/test_build.py rebuilds it and compares).
// Usage: node web/verifier/build.mjs [OUT_FILE]

import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, "..", "..", "bctrace", "web", "static", "index.html"));

const result = await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  platform: "browser",
  legalComments: "eof",
  write: false,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
});
const script = result.outputFiles[0].text.replaceAll("</script", "<\\/script");
const css = readFileSync(join(here, "style.css"), "utf8");
const page = readFileSync(join(here, "index.html"), "utf8")
  .replace("/*STYLE*/", () => css)
  .replace("/*SCRIPT*/", () => script);
writeFileSync(out, page);
console.log(`wrote ${out} (${page.length} bytes)`);
