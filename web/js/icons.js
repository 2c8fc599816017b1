// Line icons on a 24-pixel grid, drawn for consort. Decorative: always
// aria-hidden, the control they sit in carries the words.
import { svg } from './dom.js';

const P = {
  folder: ['M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h9A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z'],
  file: ['M6 3h8l4 4v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z', 'M14 3v4h4'],
  home: ['M4 10.5 12 4l8 6.5V20a1 1 0 0 1-1 1h-5v-6h-4v6H5a1 1 0 0 1-1-1z'],
  search: ['M16 16l4.5 4.5', 'C11 11 6.5'],
  upload: ['M12 15V4', 'M7.5 8.5 12 4l4.5 4.5', 'M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4'],
  download: ['M12 4v11', 'M7.5 10.5 12 15l4.5-4.5', 'M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4'],
  trash: ['M4 7h16', 'M9.5 7V4.5h5V7', 'M6 7l1 13h10l1-13', 'M10 11v5.5M14 11v5.5'],
  restore: ['M4.5 12a7.5 7.5 0 1 0 2.2-5.3', 'M4.5 4v4h4'],
  more: ['c6 12 1.4', 'c12 12 1.4', 'c18 12 1.4'],
  chevronRight: ['M9.5 6l6 6-6 6'],
  chevronDown: ['M6 9.5l6 6 6-6'],
  chevronLeft: ['M14.5 6l-6 6 6 6'],
  chevronUp: ['M6 14.5l6-6 6 6'],
  x: ['M6.5 6.5l11 11M17.5 6.5l-11 11'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  plus: ['M12 5v14M5 12h14'],
  users: ['C9 8 3.5', 'M2.5 20c0-3.6 2.9-6.5 6.5-6.5s6.5 2.9 6.5 6.5', 'M15.5 4.7a3.5 3.5 0 0 1 0 6.6', 'M18 14.2c2.1.9 3.5 3 3.5 5.8'],
  building: ['M4.5 21V4.5a1 1 0 0 1 1-1h8a1 1 0 0 1 1 1V21', 'M14.5 9.5h4a1 1 0 0 1 1 1V21', 'M3 21h18', 'M8 7.5h3M8 11.5h3M8 15.5h3'],
  layers: ['M12 3.5 3 8.2l9 4.8 9-4.8z', 'M3 12.5l9 4.8 9-4.8', 'M3 16.5l9 4.8 9-4.8'],
  shield: ['M12 3l7.5 3v5.5c0 4.6-3.1 8-7.5 9.5-4.4-1.5-7.5-4.9-7.5-9.5V6z', 'M8.5 12l2.5 2.5 4.5-4.5'],
  list: ['M9 6h11M9 12h11M9 18h11', 'c4.5 6 1.2', 'c4.5 12 1.2', 'c4.5 18 1.2'],
  user: ['C12 8 4', 'M4 21c0-4.4 3.6-8 8-8s8 3.6 8 8'],
  logout: ['M14.5 4H18a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1h-3.5', 'M9.5 8l-4 4 4 4', 'M5.5 12h10'],
  menu: ['M4 7h16M4 12h16M4 17h16'],
  arrowUp: ['M12 19V5', 'M6.5 10.5 12 5l5.5 5.5'],
  arrowDown: ['M12 5v14', 'M6.5 13.5 12 19l5.5-5.5'],
  edit: ['M4 20h4L19.5 8.5l-4-4L4 16z', 'M13.5 6.5l4 4'],
  move: ['M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h9A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z', 'M9 13h7', 'M13.5 10.5 16 13l-2.5 2.5'],
  clock: ['C12 12 8.5', 'M12 7.5V12l3 2'],
  key: ['C8 15.5 3.8', 'M10.8 12.7 20 3.5', 'M17 6.5l2.2 2.2', 'M14.6 8.9l2 2'],
  copy: ['M9 8h10a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H9a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z', 'M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3'],
  alert: ['M12 4 2.8 19.5h18.4z', 'M12 10v4.5', 'c12 17 .9'],
  info: ['C12 12 8.5', 'M12 11v5.5', 'c12 8 .9'],
  link: ['M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1.4 1.4', 'M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1.4-1.4'],
  folderPlus: ['M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h9A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z', 'M12 10.5v5.5M9.2 13.2h5.6'],
  folderUp: ['M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h9A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z', 'M12 16v-5.5', 'M9.5 13 12 10.5l2.5 2.5'],
  lock: ['M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1z', 'M8 11V8a4 4 0 0 1 8 0v3'],
  refresh: ['M19.5 12a7.5 7.5 0 0 1-13.3 4.7', 'M4.5 12a7.5 7.5 0 0 1 13.3-4.7', 'M18 3.5v4h-4', 'M6 20.5v-4h4'],
  logo: ['M5 7.5 12 4l7 3.5v9L12 20l-7-3.5z', 'M5 7.5l7 3.5 7-3.5', 'M12 11v9'],
};

// 'C cx cy r' is a stroked circle, 'c cx cy r' a filled dot. Each icon
// is built once and cloned after that (lists draw many).
const made = new Map();
export function icon(name, { size = 20, cls = '' } = {}) {
  const key = `${name}/${size}/${cls}`;
  const cached = made.get(key);
  if (cached) return cached.cloneNode(true);
  const el = build(name, size, cls);
  made.set(key, el);
  return el.cloneNode(true);
}

function build(name, size, cls) {
  const el = svg('svg', { viewBox: '0 0 24 24', width: size, height: size, 'aria-hidden': 'true', focusable: 'false', class: `icon ${cls}`.trim() });
  for (const d of P[name] || P.file) {
    if (d[0] === 'C' || d[0] === 'c') {
      const [cx, cy, r] = d.slice(1).trim().split(/\s+/);
      el.appendChild(svg('circle', { cx, cy, r, class: d[0] === 'c' ? 'dot' : null }));
    } else {
      el.appendChild(svg('path', { d }));
    }
  }
  return el;
}

export function fileIcon(kind) {
  const el = icon(kind === 'folder' ? 'folder' : 'file', { size: 22, cls: `kind-${kind}` });
  return el;
}
