// Locations live in the URL fragment (#/wp/WP1/Reports/D1.1.pdf), so the
// server serves one page and a reload or a shared link lands on the same
// screen. Each path segment is percent-encoded on its own.

export function parse(hash = location.hash) {
  const raw = hash.replace(/^#/, '');
  const qi = raw.indexOf('?');
  const pathPart = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const segments = pathPart.split('/').filter(Boolean).map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
  return { segments, params, hash: `#${raw}` };
}

// href('wp', 'WP1', 'a/b') → "#/wp/WP1/a/b"; a segment may hold slashes
// (a document path) and is split on them.
export function href(...parts) {
  let params = null;
  if (parts.length && typeof parts[parts.length - 1] === 'object') params = parts.pop();
  const segs = [];
  for (const p of parts) for (const s of String(p ?? '').split('/')) if (s) segs.push(encodeURIComponent(s));
  let q = '';
  if (params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
    q = u.toString() ? `?${u}` : '';
  }
  return `#/${segs.join('/')}${q}`;
}

export function go(hash, { replace = false } = {}) {
  if (replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else if (location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}
