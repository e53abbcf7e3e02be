// The page: files in, verdicts out. Everything shown is built from text nodes (a bundle is
// untrusted input: nothing in it is ever parsed as HTML).

import { loadRpcSettings, pairsFromQuery, saveRpcSettings, KNOWN_CHAINS } from "./chains.js";
import { sha256OfFile } from "./hashing.js";
import { parseStrict, BundleInvalid } from "./strictjson.js";
import { timelines } from "./trace.js";
import { pageStatus, verifyBundle } from "./verify.js";

const WORDS = {
  verified: "Genuine: every check passed",
  failed: "Not genuine: a check failed",
  unreachable: "Could not be checked completely",
  pending: "Checking…",
};

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("data") || k.startsWith("aria") || ["href", "title", "role", "id", "for", "tabindex", "rel", "target", "datetime"].includes(k)) el.setAttribute(k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()), v);
    else el[k] = v;
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function term(word, explanation) {
  return h("abbr", { title: explanation, tabindex: "0", class: "term" }, word);
}

const TERMS = {
  anchor: "A short fingerprint (the root) written into a public ledger at a known time; nobody can change it afterwards.",
  root: "One fingerprint that covers a whole batch of records: change any record and the root no longer matches.",
  block: "A page of a blockchain; each block has a number and the time it was added.",
  digest: "The record's fingerprint (SHA-256): any change to the record changes it.",
  confirmations: "How many blocks were added on top of the anchor's block: the more, the harder to undo.",
  trusted: "A block hash you got from a source you trust: the anchor is then checked from the bundle alone, with no network.",
};

function settings() {
  return { rpcs: loadRpcSettings(), trusted: { ...readTrusted(), ...pairsFromQuery(location.search, "trust") }, cache: new Map() };
}

function readTrusted() {
  const out = {};
  for (const line of document.getElementById("trusted").value.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0 && /^\s*\d+\s*$/.test(line.slice(0, at))) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function isBundleFile(file) {
  return file.name.endsWith(".bctrace.json");
}

function localTime(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.toLocaleString()} (UTC ${d.toISOString().replace("T", " ").replace(".000Z", "")})`;
}

async function checkSubjects(report, dataFiles) {
  const rows = [];
  for (const s of Array.isArray(report.bundle.record.subjects) ? report.bundle.record.subjects : []) {
    const file = dataFiles.find((f) => f.name === s.name || f.name === String(s.name).split("/").pop());
    let match = null;
    if (file) {
      if (s.hash_scheme && s.hash_scheme !== "sha256") {
        match = { ok: null, text: `private (${s.hash_scheme}): the file cannot be compared without the producer's salt` };
      } else {
        const got = await sha256OfFile(file);
        const ok = got === s.sha256 && (s.size == null || s.size === file.size);
        match = { ok, text: ok ? "the file you gave matches" : `the file you gave does not match: its sha256 is ${got}, the bundle says ${s.sha256} (file changed)` };
        if (!ok) {
          report.status = "failed";
          report.reasons.push(`subject ${s.name}: the file's sha256 is ${got}, the bundle says ${s.sha256} (file changed)`);
        }
      }
    }
    rows.push({ subject: s, match });
  }
  return rows;
}

function renderAnchor(c) {
  const status = pageStatus(c.status);
  const r = c.receipt || c.claim;
  const known = KNOWN_CHAINS[c.chain_id]?.name;
  return h("li", { class: `anchor ${status}`, dataTestid: "anchor", dataStatus: status, dataChainId: String(c.chain_id), dataBlock: String(c.claim.block) },
    h("strong", {}, `${c.chain}`), known ? ` (${known})` : "", ` — chain id ${c.chain_id}: `, h("span", { class: "status" }, status),
    h("dl", {},
      h("dt", {}, term("Block", TERMS.block)), h("dd", { dataTestid: "block" }, String(r.block)),
      h("dt", {}, "Time"), h("dd", { dataTestid: "time" }, localTime(r.timestamp)),
      h("dt", {}, "Transaction"), h("dd", { class: "hex" }, c.url ? h("a", { href: c.url, rel: "noopener noreferrer", target: "_blank" }, r.tx) : r.tx),
      h("dt", {}, "Contract / ledger"), h("dd", { class: "hex" }, String(r.contract ?? "")),
      c.confirmations != null ? [h("dt", {}, term("Confirmations", TERMS.confirmations)), h("dd", {}, String(c.confirmations))] : null,
      h("dt", {}, "Checked"), h("dd", { dataTestid: "checked-by" }, c.status === "verified" ? (c.live ? `against a live node (${c.source.replace(/^node /, "")})` : `offline, against a ${c.source} (no network)`) : c.source),
    ),
    c.status !== "verified" ? h("p", { class: "reason", dataTestid: "reason" }, `${c.status}: ${c.reason}`) : null,
  );
}

/** One bundle's card. With many bundles (`folded`), its details start folded: a page of 1,000
 * open cards takes the browser longer to lay out than to verify them. */
function renderBundle(name, report, subjects, folded) {
  const rec = report.bundle?.record || {};
  return h("section", { class: `bundle ${report.status}`, dataTestid: "bundle", dataStatus: report.status, ariaLabel: `bundle ${name}` },
    h("h3", {}, name, " — ", h("span", { class: "status" }, WORDS[report.status])),
    report.reasons.length ? h("ul", { class: "reasons" }, report.reasons.map((r) => h("li", { dataTestid: "reason" }, r))) : null,
    h("details", { open: !folded }, h("summary", {}, "Details: record, files, anchors"),
    h("p", {}, `Step ${rec.seq ?? "?"} of trace `, h("code", {}, String(rec.trace ?? "?")), `, kind “${rec.kind ?? "?"}”, recorded ${rec.created ?? "?"}.`),
    report.signedBy ? h("p", { dataTestid: "signed-by" }, "Signed by ", h("code", {}, report.signedBy), " (signature checked in this page).") : null,
    subjects.length ? h("table", {},
      h("caption", {}, "What this record covers"),
      h("thead", {}, h("tr", {}, ["File", "Size", "SHA-256", "CID", "Your file"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, subjects.map(({ subject: s, match }) => h("tr", { dataTestid: "subject", dataMatch: match ? String(match.ok) : "not-given" },
        h("td", {}, String(s.name)), h("td", {}, s.size != null ? String(s.size) : ""), h("td", { class: "hex" }, String(s.sha256)),
        h("td", { class: "hex" }, s.cid || ""), h("td", {}, match ? match.text : "not given"))))) : null,
    report.chains.length ? [h("h4", {}, term("Anchors", TERMS.anchor)), h("ul", { class: "anchors" }, report.chains.map(renderAnchor))] : null,
    ),
  );
}

const FOLD_OVER = 20;

/** An ML run's report: its start step (code, environment) and end step (data, seeds, metrics, checklist) together. */
function renderRun(steps) {
  const body = Object.assign({}, ...steps.map((r) => r.bundle.record.body || {}));
  const row = (label, value, testid) => (value == null || value === "" ? null : [h("dt", {}, label), h("dd", { dataTestid: testid }, typeof value === "string" ? value : JSON.stringify(value))]);
  const code = body.code || {};
  const env = body.environment || {};
  const checklist = body.checklist;
  const items = checklist?.items || [];
  return h("section", { class: "run", dataTestid: "ml-run", ariaLabel: `ML run ${body.name || body.run_id || ""}` },
    h("h3", {}, `ML run “${body.name || body.run_id || ""}”`, body.status ? ` — ${body.status}` : ""),
    h("dl", {},
      row("Code", code.git?.commit ? `git ${code.git.commit}${code.git.dirty ? " (with uncommitted changes)" : ""}` : code.entry_point ? `${code.entry_point.script || code.entry_point.module} (sha256 ${code.entry_point.sha256 || "?"}), not in git` : null, "run-code"),
      row("Environment", [env.python?.version && `Python ${env.python.version}`, env.os && `${env.os.system} ${env.os.release}`, env.hardware?.cpu_model].filter(Boolean).join(", "), "run-env"),
      row("Data", (body.inputs || []).map((i) => `${i.name}${i.role ? ` (${i.role})` : ""}: ${i.sha256}`).join("; "), "run-data"),
      row("Seed", body.seed != null ? String(body.seed) : null, "run-seed"),
      row("Parameters", body.params && Object.keys(body.params).length ? body.params : null),
      row("Metrics", body.metrics && Object.keys(body.metrics).length ? Object.entries(body.metrics).map(([k, v]) => `${k} = ${v}`).join(", ") : null, "run-metrics"),
      checklist ? row("Reproducibility checklist", `score ${checklist.score}: ${items.filter((i) => i.status === "ok").length} of ${checklist.applicable ?? items.length} items recorded`, "run-checklist") : null,
    ),
    items.length ? h("details", {}, h("summary", {}, "Checklist items"), h("ul", {}, items.map((i) => h("li", {}, `${i.status === "ok" ? "✔" : "✘"} ${i.title} (${i.status})`)))) : null,
  );
}

function renderTimeline(t) {
  return h("section", { class: "timeline", dataTestid: "timeline", dataTrace: t.trace, ariaLabel: `timeline of trace ${t.trace}` },
    h("h3", {}, "Timeline of trace ", h("code", {}, t.trace)),
    t.problems.length ? h("p", { class: "reason", dataTestid: "trace-problem" }, t.problems.join("; ")) : h("p", {}, "Every step links to the one before it."),
    h("ol", {}, t.items.map((item) => item.gap
      ? h("li", { class: "gap", dataTestid: "gap" }, `⚠ ${item.text}: the trace is broken here`)
      : (() => {
        const rec = item.step.bundle.record;
        const first = item.step.chains.find((c) => c.status === "verified");
        return h("li", { class: `step ${item.link}`, dataTestid: "step", dataSeq: String(rec.seq), dataLink: item.link },
          h("strong", {}, `Step ${rec.seq}: ${rec.kind}`), ` by ${rec.author || rec.body?.actor || rec.body?.by || "unsigned"}, recorded ${rec.created}`,
          first ? `, anchored ${localTime(first.claim.timestamp)}` : "",
          h("span", { class: "link" }, item.link === "linked" ? " — linked to the step before" : item.link === "broken" ? " — ⚠ does not link to the step before" : ""));
      })())),
  );
}

async function readBundle(file) {
  const text = await file.text();
  try {
    return { bundle: parseStrict(text) };
  } catch (err) {
    if (err instanceof BundleInvalid) return { error: `${file.name}: the bundle is invalid: ${err.message}` };
    throw err;
  }
}

async function run(files) {
  const started = performance.now();
  const verdict = document.getElementById("verdict");
  const results = document.getElementById("results");
  verdict.dataset.status = "pending";
  verdict.textContent = WORDS.pending;
  results.replaceChildren();
  const bundles = files.filter(isBundleFile);
  const dataFiles = files.filter((f) => !isBundleFile(f));
  if (!bundles.length) {
    verdict.dataset.status = "failed";
    verdict.textContent = "No proof bundle given: add the file's .bctrace.json.";
    return;
  }
  const current = settings();
  // Read and verify all bundles at once (the reads are I/O; one batch's anchors are asked once,
  // through the shared cache), then hash the given files against the subjects.
  const reports = await Promise.all(bundles.map(async (file) => {
    const read = await readBundle(file);
    return read.error ? { status: "failed", reasons: [read.error], chains: [], bundle: null } : verifyBundle(read.bundle, current);
  }));
  const sections = [];
  for (const [i, report] of reports.entries()) {
    const subjects = report.bundle ? await checkSubjects(report, dataFiles) : [];
    sections.push(renderBundle(bundles[i].name, report, subjects, bundles.length > FOLD_OVER));
  }
  const traces = timelines(reports);
  const problems = traces.flatMap((t) => t.problems);
  const statuses = reports.map((r) => r.status);
  const status = statuses.includes("failed") || problems.length ? "failed" : statuses.includes("unreachable") ? "unreachable" : "verified";
  const reasons = [...reports.flatMap((r) => r.reasons), ...problems];
  const offline = reports.every((r) => r.chains.every((c) => c.status !== "verified" || !c.live));
  verdict.dataset.status = status;
  verdict.replaceChildren(...h("div", {},
    h("strong", {}, WORDS[status]), ` — ${bundles.length} bundle${bundles.length > 1 ? "s" : ""}`,
    status === "verified" && offline ? " (checked offline, no network used)" : "",
    reasons.length ? h("ul", {}, reasons.slice(0, 20).map((r) => h("li", {}, r))) : null,
  ).childNodes);
  const runs = new Map();
  for (const r of reports) if (r.bundle?.record?.kind === "ml-run") runs.set(r.bundle.record.trace, [...(runs.get(r.bundle.record.trace) || []), r]);
  results.replaceChildren(...[...runs.values()].map(renderRun), ...traces.map(renderTimeline), ...sections);
  verdict.dataset.ms = String(Math.round(performance.now() - started)); // how long the check took in the page
  verdict.dataset.run = String(Number(verdict.dataset.run || 0) + 1); // tools wait for this to change
}

function setupSettings() {
  const rpcs = loadRpcSettings();
  const rpcBox = document.getElementById("rpcs");
  rpcBox.value = Object.entries(rpcs).map(([k, v]) => `${k}=${v}`).join("\n");
  document.getElementById("trusted").value = Object.entries(pairsFromQuery(location.search, "trust")).map(([k, v]) => `${k}=${v}`).join("\n");
  document.getElementById("save-settings").addEventListener("click", () => {
    saveRpcSettings(Object.fromEntries(rpcBox.value.split("\n").map((l) => l.trim()).filter((l) => /^\d+=\S+$/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])));
    document.getElementById("settings-saved").textContent = "Saved in this browser.";
  });
}

/** `?bundle=URL` (repeatable), or `?bundles=URL` of a JSON list of such URLs: bundles fetched
 * by URL (relative ones from the page's own server, e.g. `bctrace serve`'s /bundles/<digest>)
 * and checked exactly like dropped files. */
async function fetchBundles() {
  const params = new URLSearchParams(location.search);
  const urls = params.getAll("bundle");
  for (const list of params.getAll("bundles")) {
    const response = await fetch(list);
    if (!response.ok) throw new Error(`${list}: the server answered ${response.status}`);
    urls.push(...(await response.json()).map(String));
  }
  if (!urls.length) return;
  const files = [];
  for (const url of urls) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: the server answered ${response.status}`);
    const name = decodeURIComponent(new URL(url, location.href).pathname.split("/").pop());
    files.push(new File([await response.blob()], name.endsWith(".bctrace.json") ? name : `${name}.bctrace.json`));
  }
  await run(files);
}

function fail(err) {
  const verdict = document.getElementById("verdict");
  verdict.dataset.status = "failed";
  verdict.textContent = `The page could not check these files: ${err.message}`;
  verdict.dataset.run = String(Number(verdict.dataset.run || 0) + 1);
}

function setup() {
  setupSettings();
  fetchBundles().catch(fail);
  const input = document.getElementById("files");
  const folder = document.getElementById("folder");
  const go = (list) => run([...list]).catch(fail);
  input.addEventListener("change", () => go(input.files));
  folder.addEventListener("change", () => go(folder.files));
  const drop = document.getElementById("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); go(e.dataTransfer.files); });
}

setup();
