// Who is signed in, and what they may see: the account, its work
// packages with levels, and the CSRF token. Views read it; app.js fills
// it at sign-in and clears it at sign-out or session end.
export const session = {
  user: null,
  wps: [],
  partners: null,
  enrolmentRequired: false,
};

export function isCoordinator() {
  return !!session.user?.coordinator;
}

export function wpLevel(code) {
  const wp = session.wps.find((w) => w.code.toLowerCase() === String(code).toLowerCase());
  return wp ? wp.level : null;
}

const RANK = { read: 1, write: 2, manage: 3 };
export function atLeast(level, needed) {
  return (RANK[level] || 0) >= RANK[needed];
}

export function canWrite(code) { return atLeast(wpLevel(code), 'write'); }
export function canManage(code) { return atLeast(wpLevel(code), 'manage'); }
export function managesAny() { return session.wps.some((w) => w.level === 'manage'); }

// Listeners for changes other screens must reflect (a work package
// created, grants changed, session renewed).
const listeners = new Map();
export function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  return () => listeners.get(event).delete(fn);
}
export function emit(event, data) {
  for (const fn of listeners.get(event) || []) fn(data);
}
