// The dialogs of Datacenter → Backup besides the editor:
// - Job Detail (dc/BackupJobDetail.js, "Backup Details"): the job's settings and its
//   "Included disks" (GET /cluster/backup/{id}/included_volumes), searchable;
// - Guests Without Backup Job (GET /cluster/backup-info/not-backed-up);
// - the Job Schedule Simulator (window/ScheduleSimulator.js: GET /cluster/jobs/schedule-analyze).

import {api, seg} from '../api.js';
import {calendarEventField} from '../combobox.js';
import {FormDialog, errorBox} from '../dialogs.js';
import {DataGrid} from '../grid.js';
import {esc, formatTime, h} from '../util.js';
import {kvTable} from '../views/common.js';
import {KEEP, SELECTION_MODES, keepLabel, nextRunText, notificationText, selectionMode} from './model.js';

const REASONS = {
  'backup=yes': 'Enabled',
  'backup=no': 'Disabled',
  enabled: 'Enabled',
  disabled: 'Disabled',
  'not a volume': 'Not a volume',
  'efidisk but no OVMF BIOS': 'EFI Disk without OVMF BIOS',
};
const MODES = {snapshot: 'Snapshot', suspend: 'Suspend', stop: 'Stop'};

function searchInput(onSearch) {
  const input = h('wa-input', {size: 's', label: 'Search', type: 'search', class: 'search',
    placeholder: 'Name, VMID, Type',
    oninput: () => onSearch(String(input.value ?? '').trim().toLowerCase())});
  return input;
}

/** "Yes", or "No - <reason>" (PVE.Utils.render_backup_status). */
export function backupStatusText(disk) {
  if (Number(disk.included)) return 'Yes';
  const reason = disk.reason === undefined ? '' : ` - ${REASONS[disk.reason] ?? disk.reason}`;
  return `No${reason}`;
}

/** The job's settings in two columns, its comment, its retention (when it has its own). */
function summary(job) {
  const mode = selectionMode(job);
  const notification = notificationText(job);
  const left = kvTable('Backup job', [
    ['Node', job.node || '-- All --'],
    ['Storage', job.storage ?? ''],
    ['Schedule', job.schedule ?? ''],
    ['Next Run', nextRunText(job['next-run'])],
    ['Selection mode', SELECTION_MODES.find(([m]) => m === mode)[1]],
    ...(job.pool ? [['Pool to backup', job.pool]] : []),
  ]);
  const right = kvTable('Backup job options', [
    ['Notification', notification],
    ...(notification.startsWith('Use global') ? [] : [['Recipients', job.mailto || 'No recipients configured']]),
    ['Compression', job.compress ?? ''],
    ['Mode', MODES[job.mode ?? 'snapshot'] ?? 'Unknown'],
    ['Enabled', Number(job.enabled ?? 1) ? 'Yes' : 'No'],
  ]);
  const parts = [h('div', {class: 'detail-columns'}, left, right),
    kvTable('Comment', [['Comment', job.comment ?? '']])];
  const prune = job['prune-backups'];
  if (prune) {
    const keep = Number(prune['keep-all'] ?? 0) ? [['Keep All', 'Yes']]
      : KEEP.map((key) => [keepLabel(key), String(prune[key] ?? '')]);
    parts.push(h('fieldset', {class: 'retention-config'}, h('legend', {}, 'Retention Configuration'),
      h('dl', {class: 'keep-grid'}, keep.map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value))))));
  }
  return h('div', {class: 'job-summary'}, parts);
}

function diskRows(guests, text) {
  const rows = [];
  for (const guest of guests) {
    const label = guest.name ? `${guest.id} (${guest.name})` : String(guest.id);
    const matches = !text || label.toLowerCase().includes(text) || String(guest.type).includes(text);
    if (!matches) continue;
    rows.push(`<tr class="guest"><th scope="rowgroup" colspan="2">${esc(label)}</th><td>${esc(guest.type)}</td><td></td></tr>`);
    for (const disk of guest.children ?? []) {
      const key = String(disk.id).split(':')[1] ?? disk.id;
      const included = Number(disk.included) ? 'yes' : 'no';
      rows.push(`<tr class="disk"><td class="indent"></td><td>${esc(`${key} - ${disk.name}`)}</td>`
        + `<td></td><td class="included ${included}">${esc(backupStatusText(disk))}</td></tr>`);
    }
  }
  return rows.length ? rows.join('') : '<tr class="empty"><td colspan="4">No guests</td></tr>';
}

/** Job Detail: the job's settings and the disks it backs up. */
export async function openJobDetail(job) {
  const error = errorBox();
  const body = h('tbody');
  let guests = [];
  const search = searchInput((text) => {
    body.innerHTML = diskRows(guests, text);
  });
  const disks = h('section', {class: 'included-disks', 'aria-label': 'Included disks'},
    h('div', {class: 'section-head'}, h('h3', {class: 'section-title'}, 'Included disks'), search),
    error.element,
    h('table', {class: 'disk-tree', 'aria-label': 'Included disks'},
      h('thead', {}, h('tr', {}, h('th', {scope: 'col', colspan: '2'}, 'Guest Image'),
        h('th', {scope: 'col'}, 'Type'), h('th', {scope: 'col'}, 'Backup Job'))),
      body));
  const dialog = new FormDialog({
    label: 'Backup Details',
    width: '52rem',
    className: 'job-detail',
    content: [summary(job), disks],
  });
  const closed = dialog.show();
  disks.dataset.state = 'loading';
  try {
    const data = await api.get(`/cluster/backup/${seg(job.id)}/included_volumes`);
    guests = data?.children ?? [];
    body.innerHTML = diskRows(guests, '');
  } catch (err) {
    error.show(err);
  }
  disks.dataset.state = 'loaded';
  return closed;
}

/** The guests no backup job covers (Type, VMID, Name), with a search. */
export async function openGuestsWithoutJob(rows) {
  const grid = new DataGrid({
    label: 'Guests Without Backup Job',
    emptyText: 'No guests',
    rowId: (row) => String(row.vmid),
    sort: {column: 'vmid', descending: false},
    columns: [
      {id: 'type', header: 'Type', value: (r) => (r.type === 'qemu' ? 'Virtual Machine' : r.type)},
      {id: 'vmid', header: 'VMID', value: (r) => r.vmid},
      {id: 'name', header: 'Name', value: (r) => r.name ?? ''},
    ],
  });
  grid.setRows(rows);
  const search = searchInput((text) => grid.setFilter(!text ? null
    : (r) => String(r.vmid).includes(text) || String(r.name ?? '').toLowerCase().includes(text)
      || String(r.type).includes(text)));
  const dialog = new FormDialog({
    label: 'Guests Without Backup Job',
    width: '36rem',
    className: 'not-backed-up',
    content: [h('div', {class: 'list-toolbar'}, h('span', {class: 'spacer'}), search), grid.element],
  });
  return dialog.show();
}

/** The Job Schedule Simulator: the next `iterations` events of a schedule. */
export async function openScheduleSimulator(schedule) {
  const field = calendarEventField({value: schedule ?? ''});
  const iterations = h('wa-input', {name: 'iterations', label: 'Iterations', type: 'number',
    min: '1', max: '100', value: '10'});
  let simulated = false;
  const grid = new DataGrid({
    label: 'Simulated runs',
    emptyText: 'No simulation done',
    rowId: (row) => String(row.timestamp),
    sort: {column: 'date', descending: false},
    columns: [
      {id: 'date', header: 'Date', value: (r) => r.timestamp, html: (r) => esc(formatTime(r.timestamp).split(' ')[0])},
      {id: 'time', header: 'Time', align: 'end', value: (r) => r.timestamp,
        html: (r) => esc(formatTime(r.timestamp).split(' ')[1])},
    ],
  });
  grid.setRows([]);
  const simulate = h('wa-button', {class: 'simulate', variant: 'brand', appearance: 'outlined',
    disabled: !field.value, onclick: () => run()}, 'Simulate');
  const dialog = new FormDialog({
    label: 'Job Schedule Simulator',
    width: '40rem',
    className: 'schedule-simulator',
    cancelLabel: 'Done',
    content: h('div', {class: 'columns'},
      h('div', {class: 'column'}, field.element, iterations, h('div', {class: 'end'}, simulate)),
      h('div', {class: 'column simulation'}, grid.element)),
  });
  const run = async () => {
    if (!field.value) return;
    dialog.error.clear();
    try {
      const rows = await api.get('/cluster/jobs/schedule-analyze',
        {schedule: field.value, iterations: String(iterations.value ?? '').trim() || 10});
      grid.setRows(rows ?? []);
    } catch (err) {
      grid.setRows([]);
      dialog.error.show(err);
    }
    if (!simulated) {
      simulated = true;
      grid.options.emptyText = 'None';
      grid.render();
    }
  };
  field.input.addEventListener('input', () => {
    simulate.disabled = !field.value;
  });
  // Enter in the schedule or iterations field simulates (the dialog has no other submit)
  dialog.form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.target.localName === 'wa-input') {
      event.preventDefault();
      run();
    }
  });
  return dialog.show();
}
