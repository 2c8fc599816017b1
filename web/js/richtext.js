// News text: the server renders Markdown to a safe subset of HTML
// (server/api/markdown.c). The app does not trust even that with
// innerHTML: the HTML is parsed inertly (DOMParser runs no script and
// loads nothing) and rebuilt element by element from an allow list,
// attributes included; everything else becomes its text.
import { h } from './dom.js';

const TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'em', 'code', 'pre', 'blockquote',
  'ul', 'ol', 'li', 'br', 'hr', 'a', 'img', 'del', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
const SAFE_URL = /^(https?:|mailto:|\/(?![/\\])|#)/i;

function rebuild(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.data);
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const tag = node.tagName.toLowerCase();
  const kids = [...node.childNodes].map(rebuild).filter(Boolean);
  if (!TAGS.has(tag)) return kids.length ? h('span', kids) : null;
  if (tag === 'a') {
    const url = node.getAttribute('href') || '';
    return h('a', SAFE_URL.test(url) ? { href: url, rel: 'noopener noreferrer' } : {}, kids);
  }
  if (tag === 'img') {
    const src = node.getAttribute('src') || '';
    if (!src.startsWith('/api/v1/')) return document.createTextNode(node.getAttribute('alt') || '');
    return h('img.news-image', { src, alt: node.getAttribute('alt') || '', loading: 'lazy' });
  }
  if (tag.match(/^h[1-6]$/)) return h(`h${Math.min(6, Number(tag[1]) + 2)}`, kids); // below the page's own headings
  return h(tag, kids);
}

export function richText(html) {
  const doc = new DOMParser().parseFromString(`<body>${html || ''}</body>`, 'text/html');
  return h('div.rich-text', [...doc.body.childNodes].map(rebuild).filter(Boolean));
}
