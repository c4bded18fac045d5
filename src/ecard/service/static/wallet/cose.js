// The bytes of an EC2: presentation and of an enrolment request, built in the browser.
//
// Contract: exactly the layout of ecard.formats.presentation (docs/format.md, "EC2:
// presentations"): RFC 8949 core deterministic CBOR (shortest heads, map keys sorted by their
// encoded bytes), COSE_Sign1 (tag 18) with the Sig_structure ["Signature1", protected, h'',
// payload], a P-256 COSE_Key with the compressed point {1: 2, -1: 1, -2: x, -3: sign bit},
// Base45 (RFC 9285). No keys here: signing is a function the caller passes in.

const enc = new TextEncoder();

function head(major, n) {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) {
    return [(major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  }
  throw new RangeError("CBOR head too large for this encoder");
}

function concat(parts) {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** A CBOR map value: integer keys, written in deterministic order whatever order is given. */
export class CborMap {
  constructor(entries) {
    this.entries = entries;
  }
}

/** A CBOR tag around a value. */
export class Tagged {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

/** Deterministic CBOR of integers, booleans, strings, Uint8Array, arrays, CborMap, Tagged. */
export function cborEncode(value) {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("only integers are encoded");
    return value >= 0 ? new Uint8Array(head(0, value)) : new Uint8Array(head(1, -1 - value));
  }
  if (typeof value === "boolean") return new Uint8Array([value ? 0xf5 : 0xf4]);
  if (typeof value === "string") {
    const b = enc.encode(value);
    return concat([new Uint8Array(head(3, b.length)), b]);
  }
  if (value instanceof Uint8Array) return concat([new Uint8Array(head(2, value.length)), value]);
  if (Array.isArray(value)) {
    return concat([new Uint8Array(head(4, value.length)), ...value.map(cborEncode)]);
  }
  if (value instanceof CborMap) {
    const pairs = value.entries.map(([k, v]) => [cborEncode(k), cborEncode(v)]);
    pairs.sort((x, y) => compareBytes(x[0], y[0]));
    for (let i = 1; i < pairs.length; i += 1) {
      if (compareBytes(pairs[i - 1][0], pairs[i][0]) === 0) throw new TypeError("duplicate key");
    }
    return concat([new Uint8Array(head(5, pairs.length)), ...pairs.flat()]);
  }
  if (value instanceof Tagged) return concat([new Uint8Array(head(6, value.tag)), cborEncode(value.value)]);
  throw new TypeError("value not in the deterministic CBOR profile");
}

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** Base45 (RFC 9285) of bytes. */
export function base45Encode(bytes) {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i] * 256 + bytes[i + 1];
    const c = n % 45;
    n = (n - c) / 45;
    const d = n % 45;
    const e = (n - d) / 45;
    out += B45[c] + B45[d] + B45[e];
  }
  if (bytes.length % 2 === 1) {
    const n = bytes[bytes.length - 1];
    out += B45[n % 45] + B45[Math.floor(n / 45)];
  }
  return out;
}

/** Bytes from standard or URL-safe base64 (padding optional). */
export function fromBase64(text) {
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(std + "===".slice((std.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

/** Standard base64 (with padding) of bytes. */
export function toBase64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** COSE labels and values used below (IANA COSE registries). */
export const ES256 = -7;
const HEADER_ALG = 1;
const HEADER_KCWT = 13;
const CLAIM_AUD = 3;
const CLAIM_IAT = 6;
const CLAIM_CNF = 8;
const CLAIM_CNONCE = 39;
export const PREFIX = "EC2:";
export const PURPOSES = ["identity", "treatment", "pharmacy", "payment"];
export const MAX_CNONCE = 16;

/** The COSE_Key map of a P-256 public key given as its 65-byte uncompressed point. */
export function coseKeyP256(rawPoint) {
  if (rawPoint.length !== 65 || rawPoint[0] !== 4) throw new TypeError("not an uncompressed P-256 point");
  const x = rawPoint.slice(1, 33);
  const ySign = (rawPoint[64] & 1) === 1;
  return new CborMap([[1, 2], [-1, 1], [-2, x], [-3, ySign]]);
}

/** ["Signature1", protected, h'', payload] in CBOR: the bytes the device signs. */
export function sigStructure(protectedBytes, payload) {
  return cborEncode(["Signature1", protectedBytes, new Uint8Array(0), payload]);
}

/** The tagged COSE_Sign1 bytes with an empty unprotected header. */
export function assembleSign1(protectedBytes, payload, signature) {
  return cborEncode(new Tagged(18, [protectedBytes, new CborMap([]), payload, signature]));
}

/** (protected, payload) of the enrolment request for a P-256 key answering a 16-byte nonce. */
export function enrolmentParts(rawPoint, nonce) {
  if (nonce.length !== 16) throw new TypeError("the enrolment nonce is 16 bytes");
  const protectedBytes = cborEncode(new CborMap([[HEADER_ALG, ES256]]));
  const cnf = new CborMap([[1, coseKeyP256(rawPoint)]]);
  const payload = cborEncode(new CborMap([[CLAIM_CNF, cnf], [CLAIM_CNONCE, nonce]]));
  return [protectedBytes, payload];
}

/** The enrolment request's COSE bytes; `sign(bytes) -> Promise<Uint8Array>` (raw r||s). */
export async function enrolmentRequest(rawPoint, nonce, sign) {
  const [protectedBytes, payload] = enrolmentParts(rawPoint, nonce);
  const signature = await sign(sigStructure(protectedBytes, payload));
  return assembleSign1(protectedBytes, payload, signature);
}

/** The protected header {1: alg, 13: card COSE bytes}. */
export function presentationProtected(card) {
  return cborEncode(new CborMap([[HEADER_ALG, ES256], [HEADER_KCWT, card]]));
}

/** The payload {3: aud, 6: iat, ?39: cnonce}; cnonce is the typed challenge (ASCII) or null. */
export function presentationPayload(aud, iat, challenge) {
  if (!PURPOSES.includes(aud)) throw new TypeError("unknown purpose");
  if (!Number.isSafeInteger(iat) || iat < 946684800) throw new TypeError("iat must be a NumericDate");
  const entries = [[CLAIM_AUD, aud], [CLAIM_IAT, iat]];
  if (challenge) {
    const cnonce = enc.encode(challenge);
    if (cnonce.length > MAX_CNONCE || /[^\x20-\x7e]/.test(challenge)) {
      throw new TypeError("a challenge has 1..16 ASCII characters");
    }
    entries.push([CLAIM_CNONCE, cnonce]);
  }
  return cborEncode(new CborMap(entries));
}

/** The EC2: text of a presentation of `card` (COSE bytes) for `aud` at `iat`, signed by `sign`. */
export async function presentationText(card, aud, iat, challenge, sign) {
  const protectedBytes = presentationProtected(card);
  const payload = presentationPayload(aud, iat, challenge);
  const signature = await sign(sigStructure(protectedBytes, payload));
  return PREFIX + base45Encode(assembleSign1(protectedBytes, payload, signature));
}
