// Reading rules of README "Proof bundle format": a key twice in one object, a number literal that
// is not its double's shortest spelling, lone surrogates, nesting over 100 deep, or more than
// 64 MiB make a bundle invalid. JSON.parse would silently accept all of them (last key wins,
// digits rounded), so the text is scanned once by this small tokenizer before JSON.parse reads it.

export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 100;

export class BundleInvalid extends Error {}

/** JSON.parse(text) after the bundle reading rules; throws BundleInvalid naming what is wrong. */
export function parseStrict(text) {
  if (text.length > MAX_BUNDLE_BYTES) throw new BundleInvalid(`larger than 64 MiB`);
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BundleInvalid(`not JSON (${err.message})`);
  }
  scan(text);
  return value;
}

function scan(text) {
  const stack = []; // per open container: a Set of keys (object) or null (array)
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text[i];
    if (c === "{" || c === "[") {
      stack.push(c === "{" ? new Set() : null);
      if (stack.length > MAX_DEPTH) throw new BundleInvalid(`nested more than ${MAX_DEPTH} deep`);
      expectKey = c === "{";
      i++;
    } else if (c === "}" || c === "]") {
      stack.pop();
      expectKey = false;
      i++;
    } else if (c === ",") {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
      i++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      const raw = text.slice(i, end + 1);
      const value = JSON.parse(raw);
      if (hasLoneSurrogate(value)) {
        throw new BundleInvalid(`a string holds a lone surrogate (not JSON text)`);
      }
      if (expectKey) {
        const keys = stack[stack.length - 1];
        if (keys.has(value)) throw new BundleInvalid(`the key ${JSON.stringify(value)} appears twice in one object`);
        keys.add(value);
        expectKey = false;
      }
      i = end + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      let j = i + 1;
      while (j < text.length && /[0-9eE+\-.]/.test(text[j])) j++;
      checkNumber(text.slice(i, j));
      i = j;
    } else {
      i++;
    }
  }
}

function stringEnd(text, start) {
  let j = start + 1;
  while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
  return j;
}

function hasLoneSurrogate(s) {
  for (let k = 0; k < s.length; k++) {
    const code = s.charCodeAt(k);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = s.charCodeAt(k + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { k++; continue; }
      return true;
    }
    if (code >= 0xdc00 && code <= 0xdfff) return true;
  }
  return false;
}

/** A literal is accepted when its exact decimal value is its double's shortest spelling. */
function checkNumber(literal) {
  const value = Number(literal);
  if (!Number.isFinite(value)) throw new BundleInvalid(`the number ${literal} is not a finite double`);
  if (!sameDecimal(literal, String(value))) {
    throw new BundleInvalid(`the number ${literal} is not exactly a double (readers would disagree on its value; it reads as ${value})`);
  }
}

/** Whether two decimal spellings denote the same exact value (compared as digit strings and exponents). */
function sameDecimal(a, b) {
  return normalise(a) === normalise(b);
}

function normalise(literal) {
  let s = literal.toLowerCase();
  let sign = "";
  if (s[0] === "-") { sign = "-"; s = s.slice(1); }
  let exp = 0;
  const e = s.indexOf("e");
  if (e >= 0) { exp = parseInt(s.slice(e + 1), 10); s = s.slice(0, e); }
  const dot = s.indexOf(".");
  if (dot >= 0) { exp -= s.length - dot - 1; s = s.slice(0, dot) + s.slice(dot + 1); }
  s = s.replace(/^0+/, "");
  if (s === "") return "0";
  while (s.endsWith("0")) { s = s.slice(0, -1); exp++; }
  return `${sign}${s}e${exp}`;
}
