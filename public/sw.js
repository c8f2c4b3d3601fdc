// Service worker of the Search-R2 Playground: offline after the first visit.
// Install: caches the app shell (index.html) and what it references, crawling the built scripts and styles for
// their assets (workers, chunks, wasm) and for files under public/ named in them, JSON manifests for the files
// they list, and the files the training worker loads by default (world, warm-start checkpoint, example step). Fetch: same-origin GETs go to the network first and refresh the
// cache; when the network fails (offline) the cached copy answers.
const CACHE = 'search-r2-playground-v4';
const SCOPE = new URL(self.registration.scope);
const MAX_FILES = 400;

const ASSET = /(?:\.{0,2}\/)?assets\/[A-Za-z0-9_.\-]+\.(?:js|mjs|css|wasm|json|woff2?|svg|png)/g;
// A chunk, worker or wasm file named relative to the script that loads it: import(`./x-HASH.js`), new URL("x.wasm", import.meta.url).
const SIBLING = /["'`](?:\.\/)?([A-Za-z0-9_.\-]+\.(?:js|mjs|css|wasm))["'`]/g;
const PUBLIC_FILE = /["'`](\/?(?:[A-Za-z0-9_\-]+\/)*[A-Za-z0-9_.\-]+\.(?:json|jsonl|safetensors|bin|txt|onnx|wasm|gz))["'`]/g;

// What the training worker loads by default (src/worker/train.worker.ts): the world in `world build`'s layout and
// the warm-start checkpoint, plus the example step. Missing files are skipped.
const SPLITS = ['nq', 'triviaqa', 'popqa', 'hotpotqa', '2wiki', 'musique', 'bamboogle'];
const SHIPPED = [
  'example-step.json',
  'world/world.json',
  'world/corpus.jsonl',
  ...SPLITS.flatMap((s) => ['train', 'dev', 'test'].map((p) => `world/${s}/${p}.jsonl`)),
  'policy/model.safetensors',
];

function isText(url) {
  return /\.(?:js|mjs|css|html|json)$/.test(url.pathname) || url.pathname.endsWith('/');
}

async function precache() {
  const cache = await caches.open(CACHE);
  const seen = new Set();
  const shipped = new Set(SHIPPED.map((p) => new URL(p, SCOPE).href));
  const queue = [new URL('./', SCOPE).href, new URL('./index.html', SCOPE).href, ...SHIPPED.map((p) => new URL(p, SCOPE).href)];
  while (queue.length && seen.size < MAX_FILES) {
    const href = queue.shift();
    if (seen.has(href)) continue;
    seen.add(href);
    let res;
    try {
      res = await fetch(href, { cache: 'no-cache' });
    } catch {
      continue;
    }
    const url = new URL(href);
    // A dev/preview server answers unknown paths with index.html (SPA fallback): not a file of ours.
    const html = (res.headers.get('content-type') ?? '').includes('text/html');
    if (res.status !== 200 || (html && !(url.pathname.endsWith('/') || url.pathname.endsWith('.html')))) {
      // A default asset this build does not ship: remember that as a 404, so offline it reads "not shipped" (as
      // online) rather than as a network failure.
      if (shipped.has(href)) await cache.put(href, new Response('not shipped with this build', { status: 404, headers: { 'content-type': 'text/plain' } }));
      continue;
    }
    if (isText(url)) {
      const text = await res.clone().text();
      const add = (p, base) => {
        try {
          const u = new URL(p, base);
          if (u.origin === SCOPE.origin && !seen.has(u.href)) queue.push(u.href);
        } catch {
          /* not a URL */
        }
      };
      for (const m of text.matchAll(ASSET)) add(m[0].replace(/^\.{0,2}\//, ''), SCOPE);
      if (/\.m?js$/.test(url.pathname)) for (const m of text.matchAll(SIBLING)) add(m[1], url);
      for (const m of text.matchAll(PUBLIC_FILE)) {
        // A path in code is relative to the site root; one in a JSON manifest is relative to the manifest.
        if (url.pathname.endsWith('.json')) add(m[1], url);
        add(m[1].replace(/^\//, ''), SCOPE);
      }
    }
    await cache.put(href, res);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== SCOPE.origin || req.headers.has('range')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok && res.status === 200) await cache.put(req, res.clone());
      return res;
    } catch (e) {
      // ignoreVary: the server varies on Origin, and module scripts are fetched in cors mode with an Origin header.
      const opts = { ignoreVary: true, ignoreSearch: req.mode === 'navigate' };
      const hit = (await cache.match(req, opts)) ?? (req.mode === 'navigate' ? (await cache.match(new URL('./', SCOPE).href, opts)) ?? (await cache.match(new URL('./index.html', SCOPE).href, opts)) : undefined);
      if (hit) return hit;
      throw e;
    }
  })());
});
