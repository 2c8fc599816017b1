// The browser app's entry point.
const main = document.getElementById('app');
const r = await fetch('/healthz');
const h = await r.json();
main.textContent = `consort is ${h.status === 'ok' ? 'running' : 'unwell'}.`;
