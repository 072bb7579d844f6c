// Pieces the views share: a key/value table, a usage bar, a polled loader.

import {errorBox} from '../dialogs.js';
import {formatSize, h} from '../util.js';

/** A two-column table of [label, value] rows (value: text or a Node). */
export function kvTable(label, rows) {
  return h('table', {class: 'kv', 'aria-label': label},
    h('tbody', {}, rows.map(([key, value]) => h('tr', {},
      h('th', {scope: 'row'}, key), h('td', {}, value ?? '')))));
}

/** "used of total (n%)" with a progress bar labelled for screen readers. */
export function usageBar(label, used, total) {
  const percent = total ? Math.round((used / total) * 1000) / 10 : 0;
  const text = total ? `${formatSize(used)} of ${formatSize(total)} (${percent}%)` : formatSize(used);
  return h('div', {class: 'usage'},
    h('wa-progress-bar', {value: String(percent), label: `${label} usage`, class: 'usage-bar'}),
    h('span', {class: 'usage-text'}, text));
}

/** A panel body that loads with `load()` and shows the API's error if it fails. */
export function loadingSection(title) {
  const error = errorBox();
  const body = h('div', {class: 'section-body'});
  const element = h('section', {class: 'section', 'aria-label': title},
    h('h2', {class: 'section-title'}, title), error.element, body);
  return {element, body, error};
}
