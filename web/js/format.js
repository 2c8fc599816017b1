// Numbers, sizes, dates and durations for people, in the UI's locale.
import { t, locale } from './i18n.js';

// Number formats are made once: toLocaleString with options builds a
// new one on every call, which shows when a list draws many rows.
const nf = {};
function numFmt(digits) {
  const key = `${locale()}/${digits}`;
  if (!nf[key]) nf[key] = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits });
  return nf[key];
}

export function bytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1000) return t('fmt.bytes', { n });
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = -1;
  do { v /= 1000; u += 1; } while (v >= 1000 && u < units.length - 1);
  return `${numFmt(v < 10 ? 1 : 0).format(v)} ${units[u]}`;
}

export function number(n) {
  return numFmt(0).format(Number(n));
}

const dtf = {};
function fmt(kind) {
  if (!dtf[kind]) {
    const opts = {
      date: { year: 'numeric', month: 'short', day: 'numeric' },
      datetime: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' },
      time: { hour: '2-digit', minute: '2-digit' },
      full: { dateStyle: 'full', timeStyle: 'medium' },
    }[kind];
    dtf[kind] = new Intl.DateTimeFormat(locale(), opts);
  }
  return dtf[kind];
}

export function date(iso) {
  return iso ? fmt('date').format(new Date(iso)) : '';
}

export function dateTime(iso) {
  return iso ? fmt('datetime').format(new Date(iso)) : '';
}

export function fullDate(iso) {
  return iso ? fmt('full').format(new Date(iso)) : '';
}

// "just now", "5 min ago", "yesterday", or a date.
export function relative(iso, now = Date.now()) {
  if (!iso) return '';
  const d = new Date(iso);
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 45) return t('fmt.justNow');
  if (s < 3600) return t('fmt.minutesAgo', { n: Math.max(1, Math.round(s / 60)) });
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  if (d >= today) return t('fmt.todayAt', { time: fmt('time').format(d) });
  const yesterday = new Date(today.getTime() - 86400000);
  if (d >= yesterday) return t('fmt.yesterdayAt', { time: fmt('time').format(d) });
  return date(iso);
}

export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.ceil(seconds);
  if (s < 60) return t('fmt.seconds', { n: s });
  if (s < 3600) return t('fmt.minutes', { m: Math.floor(s / 60), s: s % 60 });
  return t('fmt.hours', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

export function levelName(level) {
  return t(`level.${level || 'none'}`);
}

// File kind from a name or MIME type, for the icon and the type column.
export function kindOf(name = '', mime = '') {
  const ext = (/\.([a-z0-9]+)$/i.exec(name)?.[1] || '').toLowerCase();
  if (ext === 'pdf' || mime === 'application/pdf') return 'pdf';
  if (['doc', 'docx', 'odt', 'rtf'].includes(ext) || /wordprocessing|opendocument\.text|msword/.test(mime)) return 'doc';
  if (['xls', 'xlsx', 'ods', 'csv'].includes(ext) || /spreadsheet|ms-excel|text\/csv/.test(mime)) return 'sheet';
  if (['ppt', 'pptx', 'odp'].includes(ext) || /presentation|powerpoint/.test(mime)) return 'slides';
  if (['png', 'jpg', 'jpeg', 'gif', 'webp', 'svg', 'tif', 'tiff'].includes(ext) || /^image\//.test(mime)) return 'image';
  if (['zip', 'tar', 'gz', '7z', 'rar'].includes(ext) || /zip|x-tar|gzip|compressed/.test(mime)) return 'archive';
  if (['txt', 'md', 'html', 'htm', 'xml', 'json'].includes(ext) || /^text\//.test(mime)) return 'text';
  return 'file';
}
