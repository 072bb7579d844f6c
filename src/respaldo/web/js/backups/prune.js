// "Prune group" (Proxmox's window/Prune.js): keep-last ... keep-yearly with a live preview
// (GET .../prunebackups, a dry run) of what is kept and why; Prune: DELETE .../prunebackups.

import {api, seg} from '../api.js';
import {FormDialog} from '../dialogs.js';
import {DataGrid} from '../grid.js';
import {openTaskViewer} from '../tasks.js';
import {esc, fieldText, formatTime, h, parsePropertyString} from '../util.js';

const KEEP = ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'];

/** The prune-backups property string of the fields ("keep-all=1" when none is set). */
export function pruneOptions(values) {
  const parts = KEEP.filter((key) => Number(values[key]) > 0).map((key) => `${key}=${Number(values[key])}`);
  return parts.length ? parts.join(',') : 'keep-all=1';
}

/**
 * Why each backup is kept: the rules in their order, each keeping up to its count among the
 * backups marked "keep", newest first ("keep-daily: 2" is the second kept by keep-daily).
 */
export function keepReasons(rows, options) {
  const keep = parsePropertyString(options);
  const rules = KEEP.filter((key) => Number(keep[key]) > 0);
  const reasons = new Map();
  let rule = 0;
  let count = 0;
  for (const row of [...rows].sort((a, b) => b.ctime - a.ctime)) {
    if (row.mark !== 'keep') continue;
    if (!rules.length) {
      reasons.set(row.volid, 'keep-all');
      continue;
    }
    while (rule < rules.length && count >= Number(keep[rules[rule]])) {
      rule += 1;
      count = 0;
    }
    count += 1;
    reasons.set(row.volid, rule < rules.length ? `${rules[rule]}: ${count}` : 'keep');
  }
  return reasons;
}

function keepText(row, reasons) {
  // the server may say why itself (respaldo's 'reason'); else it is worked out here
  if (row.mark === 'keep') return `true (${row.reason ?? reasons.get(row.volid)})`;
  if (row.mark === 'protected') return 'true (protected)';
  if (row.mark === 'renamed') return 'true (renamed)';
  return 'false';
}

export async function openPrune(ctx, {storage, type, vmid}) {
  const base = `/nodes/${seg(ctx.node)}/storage/${seg(storage)}/prunebackups`;
  const inputs = Object.fromEntries(KEEP.map((key) => [key, h('wa-input', {
    name: key, label: key, type: 'number', min: '0', class: 'keep-input'})]));
  let reasons = new Map();
  const preview = new DataGrid({
    label: 'Prune preview',
    emptyText: 'No backups',
    rowId: (row) => row.volid,
    sort: {column: 'ctime', descending: true},
    columns: [
      {id: 'ctime', header: 'Backup Time', value: (r) => r.ctime,
        html: (r) => (r.mark === 'remove' ? `<s>${esc(formatTime(r.ctime))}</s>` : esc(formatTime(r.ctime)))},
      {id: 'keep', header: 'Keep (reason)', value: (r) => keepText(r, reasons)},
    ],
  });
  const values = () => Object.fromEntries(KEEP.map((key) => [key, fieldText(inputs[key])]));
  const dialog = new FormDialog({
    label: `Prune Backups for '${type}/${vmid}' on Storage '${storage}'`,
    width: '44rem',
    className: 'prune',
    submitLabel: 'Prune',
    content: h('div', {class: 'columns prune-columns'},
      h('div', {class: 'column keep-inputs'}, KEEP.map((key) => inputs[key])),
      h('div', {class: 'column prune-preview'}, preview.element)),
    onSubmit: async () => api.del(base, {'prune-backups': pruneOptions(values()), type, vmid}),
  });
  let seq = 0;
  const reload = async () => {
    seq += 1;
    const mine = seq;
    const params = {type, vmid, 'prune-backups': pruneOptions(values())};
    try {
      const rows = await api.get(base, params);
      if (mine !== seq) return;
      reasons = keepReasons(rows, params['prune-backups']);
      preview.setRows(rows);
      dialog.error.clear();
    } catch (err) {
      if (mine === seq) dialog.error.show(err);
    }
  };
  for (const input of Object.values(inputs)) input.addEventListener('input', reload);
  const shown = dialog.show();
  try {
    // start from the storage's retention settings, as they would prune now
    const config = (await api.get('/storage')).find((s) => s.storage === storage);
    const keep = parsePropertyString(config?.['prune-backups'] ?? '');
    for (const key of KEEP) if (keep[key]) inputs[key].value = keep[key];
  } catch (err) {
    dialog.error.show(err);
  }
  await reload();
  const upid = await shown;
  if (upid) openTaskViewer(ctx.node, upid);
}
