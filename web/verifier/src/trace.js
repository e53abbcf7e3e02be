// The story of a trace: its steps in order, each linked to the one before by its `prev` digest.
// A missing step or a broken link is shown where it breaks (as Tracer.verify_trace reports it).

/** Steps of each trace, with gaps and broken links marked: [{trace, items: [...], problems: [...]}]. */
export function timelines(reports) {
  const byTrace = new Map();
  for (const r of reports) {
    const rec = r.bundle?.record;
    if (!rec || typeof rec.trace !== "string" || !Number.isInteger(rec.seq)) continue;
    if (!byTrace.has(rec.trace)) byTrace.set(rec.trace, []);
    byTrace.get(rec.trace).push(r);
  }
  const out = [];
  for (const [trace, steps] of byTrace) {
    if (steps.length < 2) continue;
    steps.sort((a, b) => a.bundle.record.seq - b.bundle.record.seq);
    const items = [];
    const problems = [];
    let before = null;
    for (const step of steps) {
      const rec = step.bundle.record;
      if (before && rec.seq === before.bundle.record.seq) {
        problems.push(`trace ${trace}: step ${rec.seq} appears twice`);
        continue;
      }
      const expected = before ? before.bundle.record.seq + 1 : rec.seq;
      if (rec.seq > expected) {
        const missing = rec.seq - expected === 1 ? `step ${expected} is missing` : `steps ${expected} to ${rec.seq - 1} are missing`;
        items.push({ gap: true, text: missing });
        problems.push(`trace ${trace}: ${missing} (next step found is ${rec.seq})`);
      }
      let link = "start";
      if (before && rec.seq === expected) {
        link = rec.prev === before.bundle.digest ? "linked" : "broken";
        if (link === "broken") problems.push(`trace ${trace}: step ${rec.seq} does not link to step ${rec.seq - 1} (prev digest differs)`);
      } else if (before) {
        link = "unknown";
      }
      items.push({ step, link });
      before = step;
    }
    out.push({ trace, items, problems });
  }
  return out;
}
