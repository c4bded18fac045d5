// The device keys and what the wallet keeps, in the browser only.
//
// Contract: one ECDSA P-256 key pair per credential profile, made by WebCrypto with
// extractable: false, so the private key cannot leave the browser (exportKey refuses it); the
// CryptoKey objects themselves are stored in IndexedDB (structured clone keeps them
// non-extractable). Signatures are WebCrypto's raw r||s, which is COSE's ES256 form.

const DB_NAME = "ecard-wallet";
const STORE = "wallet";
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };
const SIGN = { name: "ECDSA", hash: "SHA-256" };

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req ? req.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The stored value under `name`, or undefined. */
export function load(name) {
  return withStore("readonly", (s) => s.get(name));
}

/** Store `value` (structured-cloneable; CryptoKey included) under `name`. */
export function save(name, value) {
  return withStore("readwrite", (s) => s.put(value, name));
}

/** Forget everything this wallet keeps. */
export function clearAll() {
  return withStore("readwrite", (s) => s.clear());
}

/** A new non-extractable P-256 key pair and its public point (65 bytes, uncompressed). */
export async function newDeviceKey() {
  const pair = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, point: raw };
}

/** A signing function for `privateKey`: bytes -> Promise of the raw r||s signature. */
export function signerOf(privateKey) {
  return async (data) => new Uint8Array(await crypto.subtle.sign(SIGN, privateKey, data));
}
