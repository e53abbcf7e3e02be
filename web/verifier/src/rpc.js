// JSON-RPC to an EVM node through ethers, one provider per URL, with no network detection loop
// (a stopped node must fail at once, not be retried every second).

import { JsonRpcProvider, Network } from "ethers";

const providers = new Map();

export class Unreachable extends Error {}

function provider(url) {
  if (!providers.has(url)) {
    const network = new Network("anchor-chain", 0n);
    providers.set(url, new JsonRpcProvider(url, network, { staticNetwork: network, batchMaxCount: 1 }));
  }
  return providers.get(url);
}

/** One JSON-RPC call; a transport failure becomes Unreachable naming the URL. */
export async function call(url, method, params = []) {
  try {
    return await provider(url).send(method, params);
  } catch (err) {
    if (err && err.code === "UNKNOWN_ERROR" && err.error) throw new Error(`${method}: ${err.error.message || "node error"}`);
    throw new Unreachable(`${redact(url)} did not answer (${shortError(err)})`);
  }
}

function shortError(err) {
  return String(err?.shortMessage || err?.message || err).split("\n")[0].slice(0, 160);
}

/** The URL without credentials, query or path (keys in RPC URLs never reach the page's text). */
export function redact(url) {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "the RPC URL";
  }
}
