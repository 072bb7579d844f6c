// Small helpers: building DOM nodes, escaping, and formatting values as Proxmox's GUI shows them.

/**
 * Create an element: h('wa-button', {variant: 'brand', onclick: fn}, 'Label', child).
 * Keys starting with "on" become event listeners; `class`, `text`, `html`, `dataset`
 * and `props` (assigned as properties) are special; other keys are attributes (false/null
 * leave the attribute out, true sets it empty).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'html') {
      el.innerHTML = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'props') {
      Object.assign(el, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const ESCAPES = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};

/** Text made safe for innerHTML. */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

let idCounter = 0;
/** A document-unique id with a prefix. */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units with two decimals, as Proxmox shows sizes ("1.50 GiB"). */
export function formatSize(bytes) {
  if (bytes === undefined || bytes === null || bytes === '') return '';
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(2)} ${UNITS[unit]}`;
}

const pad = (n) => String(n).padStart(2, '0');

/** Epoch seconds as local "YYYY-MM-DD HH:MM:SS". */
export function formatTime(epoch) {
  if (!epoch) return '';
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Seconds as "1d 02:03:04" / "02:03:04". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const days = Math.floor(s / 86400);
  const rest = `${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return days ? `${days}d ${rest}` : rest;
}

/** The file name of a volid ("local:backup/vzdump-qemu-100-....vma.zst" -> "vzdump-..."). */
export function volumeName(volid) {
  const volname = String(volid).slice(String(volid).indexOf(':') + 1);
  return volname.startsWith('backup/') ? volname.slice('backup/'.length) : volname;
}

/** The storage of a volid. */
export function volumeStorage(volid) {
  return String(volid).split(':', 1)[0];
}

/** "100 (name)" or "100". */
export function guestLabel(vmid, name) {
  return name ? `${vmid} (${name})` : String(vmid);
}

/** A Proxmox property string "a=1,b=x" as an object. */
export function parsePropertyString(text) {
  const result = {};
  for (const part of String(text ?? '').split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) result[part] = '';
    else result[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return result;
}

/** Escape a notes template for the API: newline as "\n" and backslash as "\\" (Proxmox's rule). */
export function escapeNotesTemplate(text) {
  return String(text).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** The inverse of escapeNotesTemplate. */
export function unescapeNotesTemplate(text) {
  return String(text).replace(/\\(\\|n)/g, (_, c) => (c === 'n' ? '\n' : '\\'));
}

/** Wait until the custom elements used in a subtree are defined (first render). */
export async function defined(root) {
  const tags = new Set([...root.querySelectorAll(':not(:defined)')].map((e) => e.localName));
  await Promise.all([...tags].map((tag) => customElements.whenDefined(tag)));
}

/** A form control's value as trimmed text ('' when empty: a number input's value is null). */
export function fieldText(el) {
  return String(el.value ?? '').trim();
}
