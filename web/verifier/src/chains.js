// Chains the page knows: names, explorers (as bctrace_backends/evm/config.py's presets) and a
// public RPC for each, used only when the user has set none for that chain id.

export const KNOWN_CHAINS = {
  1: { name: "Ethereum", explorer: "https://etherscan.io", rpc: "https://ethereum-rpc.publicnode.com" },
  11155111: { name: "Sepolia", explorer: "https://sepolia.etherscan.io", rpc: "https://ethereum-sepolia-rpc.publicnode.com" },
  17000: { name: "Holesky", explorer: "https://holesky.etherscan.io", rpc: "https://ethereum-holesky-rpc.publicnode.com" },
  560048: { name: "Hoodi", explorer: "https://hoodi.etherscan.io", rpc: "https://ethereum-hoodi-rpc.publicnode.com" },
  137: { name: "Polygon", explorer: "https://polygonscan.com", rpc: "https://polygon-bor-rpc.publicnode.com" },
  100: { name: "Gnosis", explorer: "https://gnosisscan.io", rpc: "https://gnosis-rpc.publicnode.com" },
  56: { name: "BNB Smart Chain", explorer: "https://bscscan.com", rpc: "https://bsc-rpc.publicnode.com" },
  43114: { name: "Avalanche C-Chain", explorer: "https://snowtrace.io", rpc: "https://avalanche-c-chain-rpc.publicnode.com" },
  10: { name: "OP Mainnet", explorer: "https://optimistic.etherscan.io", rpc: "https://optimism-rpc.publicnode.com" },
  8453: { name: "Base", explorer: "https://basescan.org", rpc: "https://base-rpc.publicnode.com" },
  42161: { name: "Arbitrum One", explorer: "https://arbiscan.io", rpc: "https://arbitrum-one-rpc.publicnode.com" },
  59144: { name: "Linea", explorer: "https://lineascan.build", rpc: "https://linea-rpc.publicnode.com" },
};

const STORAGE_KEY = "bctrace.rpc";

/** RPC URLs per chain id: the URL's `?rpc=CHAIN_ID=URL` (repeatable) over localStorage. */
export function loadRpcSettings(search = location.search) {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
  } catch {
    saved = {};
  }
  return { ...saved, ...pairsFromQuery(search, "rpc") };
}

export function saveRpcSettings(rpcs) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(rpcs));
  } catch {
    // file:// pages in some browsers have no storage: settings then last for the visit only
  }
}

/** `?NAME=CHAIN_ID=VALUE` pairs (repeatable) as {chainId: value}; malformed ones are ignored. */
export function pairsFromQuery(search, name) {
  const out = {};
  for (const spec of new URLSearchParams(search).getAll(name)) {
    const at = spec.indexOf("=");
    const chainId = spec.slice(0, at).trim();
    if (at > 0 && /^\d+$/.test(chainId)) out[chainId] = spec.slice(at + 1).trim();
  }
  return out;
}

export function rpcFor(chainId, rpcs) {
  return rpcs[String(chainId)] || KNOWN_CHAINS[chainId]?.rpc || null;
}

export function txUrl(chainId, tx) {
  const explorer = KNOWN_CHAINS[chainId]?.explorer;
  return explorer ? `${explorer}/tx/${tx}` : null;
}
