// The wallet's service worker: after the first visit, the wallet pages, scripts, styles and
// the QR library come from this cache, so the page opens and refreshes its code with no
// network. Stale-while-revalidate: answer from the cache at once, update it in the background.
// The JSON API (/wallet/api/...) is never cached.

const CACHE = "ecard-wallet-v1";
const PURPOSES = ["identity", "treatment", "pharmacy", "payment"];
const ASSETS = [
  "/wallet",
  ...PURPOSES.map((p) => "/wallet/" + p),
  "/static/css/ecard.css",
  "/static/wallet/wallet.js",
  "/static/wallet/wallet.css",
  "/static/wallet/cose.js",
  "/static/wallet/device.js",
  "/static/wallet/manifest.webmanifest",
  "/static/wallet/icon.svg",
  "/static/vendor/qrcode-generator/qrcode.mjs",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/wallet/api/")) return;
  if (!ASSETS.includes(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(event.request, { ignoreSearch: true });
      const network = fetch(event.request)
        .then((response) => {
          if (response.ok) cache.put(event.request, response.clone());
          return response;
        })
        .catch(() => undefined);
      if (cached) {
        event.waitUntil(network);
        return cached;
      }
      return (await network) || Response.error();
    }),
  );
});
