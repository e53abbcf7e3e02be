// Reading rules of README "Proof bundle format": a key twice in one object, a number literal that
// is not its double's shortest spelling, lone surrogates, nesting over 100 deep, or more than
// 64 MiB make a bundle invalid. JSON.parse would silently accept all of them (last key wins,
// digits rounded), so the text is scanned once by this small tokenizer before JSON.parse reads it.

export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 100;
const NUMBER_CHARS = new Set("0123456789eE+-.");

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
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) { // { [
      stack.push(c === 0x7b ? new Set() : null);
      if (stack.length > MAX_DEPTH) throw new BundleInvalid(`nested more than ${MAX_DEPTH} deep`);
      expectKey = c === 0x7b;
      i++;
    } else if (c === 0x7d || c === 0x5d) { // } ]
      stack.pop();
      expectKey = false;
      i++;
    } else if (c === 0x2c) { // ,
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
      i++;
    } else if (c === 0x22) { // "
      const [end, escaped] = stringEnd(text, i);
      // Only escapes can spell a lone surrogate (the text was decoded from UTF-8), and only keys
      // are compared: other strings are skipped without decoding.
      if (escaped || expectKey) {
        const value = escaped ? JSON.parse(text.slice(i, end + 1)) : text.slice(i + 1, end);
        if (escaped && hasLoneSurrogate(value)) throw new BundleInvalid(`a string holds a lone surrogate (not JSON text)`);
        if (expectKey) {
          const keys = stack[stack.length - 1];
          if (keys.has(value)) throw new BundleInvalid(`the key ${JSON.stringify(value)} appears twice in one object`);
          keys.add(value);
          expectKey = false;
        }
      }
      i = end + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) { // - 0-9
      let j = i + 1;
      while (j < text.length && NUMBER_CHARS.has(text[j])) j++;
      checkNumber(text.slice(i, j));
      i = j;
    } else {
      i++;
    }
  }
}

/** Index of the closing quote of the string opening at `start`, and whether it has escapes
 * (found with native searches: most of a bundle's text is long hex strings). */
function stringEnd(text, start) {
  let quote = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === "\\") backslashes++;
    if (backslashes % 2 === 0) break;
    quote = text.indexOf('"', quote + 1);
  }
  return [quote, text.slice(start + 1, quote).includes("\\")];
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
