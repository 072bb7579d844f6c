// The backup job editor (Proxmox's PVE.dc.BackupEdit, "Create: Backup Job" / "Edit: Backup
// Job"), in five tabs:
// - General: Node ("-- All --"), Storage, Schedule (calendar event with presets), Selection
//   mode (+ Pool), Compression (ZSTD), Mode (Snapshot), Enable, Job Comment, the guests;
// - Notifications: global settings, or legacy sendmail with recipients and when;
// - Retention: keep all, or keep-last ... keep-yearly (none: the storage's are used);
// - Note Template: the notes of each backup ({{guestname}} for a new job);
// - Advanced: Job ID (new job only), Bandwidth Limit, Zstd Threads, IO-Workers, Fleecing
//   and its storage, Repeat missed.
// POST /cluster/backup or PUT /cluster/backup/{id} (jobs/model.js builds the parameters).

import {api, seg} from '../api.js';
import {calendarEventField} from '../combobox.js';
import {FormDialog} from '../dialogs.js';
import {select, tabGroup, text} from '../forms.js';
import {resources} from '../resources.js';
import {h} from '../util.js';
import {GuestSelector} from './guests.js';
import {KEEP, SELECTION_MODES, jobParams, jobValues, keepLabel} from './model.js';

const TEMPLATE_VARS = ['cluster', 'guestname', 'node', 'vmid'];

function numberField(name, label, attrs = {}) {
  return h('wa-input', {name, label, type: 'number', placeholder: 'Fallback', ...attrs});
}

/** A field with its explanation beside it (Proxmox's two-column rows of Advanced). */
function explained(field, explanation) {
  return h('div', {class: 'explained'}, field, h('p', {class: 'explanation'}, explanation));
}

class BackupJobEditor {
  constructor(ctx, jobId) {
    this.ctx = ctx;
    this.jobId = jobId ?? null;
    this.isCreate = this.jobId === null;
    this.makeGeneral();
    this.makeNotifications();
    this.makeRetention();
    this.makeNotes();
    this.makeAdvanced();
    this.dialog = new FormDialog({
      label: this.isCreate ? 'Create: Backup Job' : 'Edit: Backup Job',
      width: '50rem',
      className: 'backup-job-edit',
      submitLabel: this.isCreate ? 'Create' : 'OK',
      content: tabGroup([
        ['general', 'General', this.general],
        ['notifications', 'Notifications', this.notifications],
        ['retention', 'Retention', this.retention],
        ['notes', 'Note Template', this.notesPanel],
        ['advanced', 'Advanced', this.advanced],
      ]),
      onSubmit: () => this.submit(),
    });
  }

  makeGeneral() {
    const f = {};
    this.fields = f;
    f.node = select('node', 'Node', [['', '-- All --']], '');
    f.storage = h('wa-select', {name: 'storage', label: 'Storage', required: true});
    f.schedule = calendarEventField({required: true});
    f.selMode = select('selMode', 'Selection mode', SELECTION_MODES, 'include');
    f.pool = h('wa-select', {name: 'pool', label: 'Pool to backup', hidden: true});
    f.compress = select('compress', 'Compression', [['0', 'None'], ['lzo', 'LZO (fast)'],
      ['gzip', 'GZIP (good)'], ['zstd', 'ZSTD (fast and good)']], 'zstd');
    f.mode = select('mode', 'Mode', [['snapshot', 'Snapshot'], ['suspend', 'Suspend'], ['stop', 'Stop']], 'snapshot');
    f.enabled = h('wa-checkbox', {name: 'enabled', props: {checked: true}}, 'Enable');
    f.comment = h('wa-input', {name: 'comment', label: 'Job Comment', hint: 'Description of the job',
      maxlength: '512'});
    this.guests = new GuestSelector(resources.vms().map((vm) => ({
      vmid: vm.vmid, node: vm.node, status: vm.status, name: vm.name, type: 'qemu'})));
    f.selMode.addEventListener('change', () => this.modeChanged());
    f.compress.addEventListener('change', () => this.compressChanged());
    this.general = h('div', {class: 'editor-panel'},
      h('div', {class: 'columns'},
        h('div', {class: 'column'}, f.node, f.storage, f.schedule.element, f.selMode, f.pool),
        h('div', {class: 'column'}, f.compress, f.mode, f.enabled)),
      f.comment, this.guests.element);
  }

  makeNotifications() {
    const f = this.fields;
    f.notificationMode = select('notification-mode', 'Notification', [
      ['notification-system', 'Use global notification settings'],
      ['legacy-sendmail', 'Use sendmail to send an email (legacy)'],
    ], 'notification-system');
    f.mailto = h('wa-input', {name: 'mailto', label: 'Recipients', placeholder: 'test@example.com, ...'});
    f.mailnotification = select('mailnotification', 'When',
      [['always', 'Always'], ['failure', 'On failure only']], 'always');
    f.notificationMode.addEventListener('change', () => this.notificationChanged());
    this.notifications = h('div', {class: 'editor-panel'}, f.notificationMode,
      h('div', {class: 'indented'}, f.mailto, f.mailnotification));
  }

  makeRetention() {
    const f = this.fields;
    f.keepAll = h('wa-checkbox', {name: 'keep-all', onchange: () => this.retentionChanged()},
      'Keep all backups');
    f.keep = Object.fromEntries(KEEP.map((key) => [key, h('wa-input', {
      name: key, label: keepLabel(key),
      type: 'number', min: '1', class: 'keep-input', oninput: () => this.retentionChanged()})]));
    this.noKeeps = h('p', {class: 'hint no-keeps-hint'},
      "Without any keep option, the storage's configuration or node's vzdump.conf is used as fallback");
    this.retention = h('div', {class: 'editor-panel'}, f.keepAll,
      h('div', {class: 'keep-columns'}, KEEP.map((key) => f.keep[key])), this.noKeeps);
  }

  makeNotes() {
    this.fields.notes = h('wa-textarea', {name: 'notes-template', label: 'Backup Notes', rows: '4',
      maxlength: '512', value: this.isCreate ? '{{guestname}}' : ''});
    this.notesPanel = h('div', {class: 'editor-panel'}, this.fields.notes,
      h('p', {class: 'hint'}, 'The notes are added to each backup created by this job.'),
      h('p', {class: 'hint'}, 'Possible template variables are: ',
        TEMPLATE_VARS.map((v, i) => [i ? ', ' : '', h('code', {}, `{{${v}}}`)])));
  }

  makeAdvanced() {
    const f = this.fields;
    f.id = h('wa-input', {name: 'id', label: 'Job ID', placeholder: 'Autogenerate',
      readonly: !this.isCreate, pattern: '[A-Za-z][A-Za-z0-9_\\-]+', maxlength: '50'});
    f.bwlimit = numberField('bwlimit', 'Bandwidth Limit (MiB/s)', {min: '0', step: 'any'});
    f.zstd = numberField('zstd', 'Zstd Threads', {min: '0'});
    f.maxWorkers = numberField('max-workers', 'IO-Workers', {min: '1', max: '256'});
    f.fleecing = h('wa-checkbox', {name: 'fleecing-enabled',
      onchange: () => this.fleecingChanged()}, 'Fleecing');
    f.fleecingStorage = h('wa-select', {name: 'fleecing-storage', label: 'Fleecing Storage',
      disabled: true});
    f.repeatMissed = h('wa-checkbox', {name: 'repeat-missed'}, 'Repeat missed');
    this.advanced = h('div', {class: 'editor-panel advanced'},
      explained(f.id, 'Can be used in notification matchers to match this job.'),
      explained(f.bwlimit, 'Limit I/O bandwidth. Use 0 for unlimited. Schema default: 0'),
      explained(f.zstd, 'Threads used for zstd compression (non-PBS); with 0, half of the '
        + 'available cores are used. Schema default: 1'),
      explained(f.maxWorkers, 'I/O workers in the QEMU process (VMs only). Schema default: 16'),
      explained(f.fleecing, 'Backup write cache that can reduce IO pressure inside guests (VMs only).'),
      explained(f.fleecingStorage, 'Prefer a fast and local storage, ideally with support for '
        + 'discard and thin-provisioning or sparse files.'),
      explained(f.repeatMissed, "Run jobs as soon as possible if they couldn't start on schedule, "
        + 'for example, due to the node being offline.'),
      h('p', {class: 'hint'}, "Note: The node-specific 'vzdump.conf' or, if this is not set, the "
        + 'default from the config schema is used to determine fallback values.'));
  }

  // -- what one field changes in the others ------------------------------------------------

  modeChanged() {
    const mode = this.fields.selMode.value;
    const label = {include: 'Guests to Include', exclude: 'Guests to Exclude'}[mode] ?? '';
    const fixed = mode === 'all' || mode === 'pool';
    this.fields.pool.hidden = mode !== 'pool';
    this.fields.pool.required = mode === 'pool';
    // leaving "All" or "Pool based" starts from an empty list, as in Proxmox's editor
    if (this.guests.disabled || mode === 'pool') this.guests.selected.clear();
    this.guests.setMode(label, fixed, mode === 'all');
  }

  compressChanged() {
    this.fields.zstd.disabled = this.fields.compress.value !== 'zstd';
  }

  notificationChanged() {
    const legacy = this.fields.notificationMode.value === 'legacy-sendmail';
    this.fields.mailto.disabled = !legacy;
    this.fields.mailnotification.disabled = !legacy;
  }

  retentionChanged() {
    const keepAll = this.fields.keepAll.checked;
    let any = false;
    for (const input of Object.values(this.fields.keep)) {
      input.disabled = keepAll;
      any = any || String(input.value ?? '') !== '';
    }
    this.noKeeps.hidden = any || keepAll;
  }

  fleecingChanged() {
    const on = this.fields.fleecing.checked;
    const storage = this.fields.fleecingStorage;
    storage.disabled = !on;
    storage.required = on;
    if (on && !storage.value) storage.value = storage.querySelector('wa-option')?.value ?? '';
  }

  // -- values ------------------------------------------------------------------------------

  setValues(v) {
    const f = this.fields;
    for (const key of ['node', 'storage', 'selMode', 'pool', 'compress', 'mode', 'comment',
      'mailto', 'mailnotification', 'notes', 'id', 'bwlimit', 'zstd', 'maxWorkers']) {
      f[key].value = v[key];
    }
    f.schedule.value = v.schedule;
    f.notificationMode.value = v.notificationMode;
    f.enabled.checked = v.enabled;
    f.keepAll.checked = v.keepAll;
    for (const key of KEEP) f.keep[key].value = v.keep[key] ?? '';
    f.fleecing.checked = v.fleecing;
    f.fleecingStorage.value = v.fleecingStorage;
    f.repeatMissed.checked = v.repeatMissed;
    this.pbsEntriesMax = v.pbsEntriesMax;
    this.guests.value = v.vmids;
    this.modeChanged();
    this.compressChanged();
    this.notificationChanged();
    this.retentionChanged();
    this.fleecingChanged();
  }

  values() {
    const f = this.fields;
    return {
      id: text(f.id), node: f.node.value, storage: f.storage.value, schedule: f.schedule.value,
      selMode: f.selMode.value, vmids: this.guests.value, pool: f.pool.value,
      compress: f.compress.value, mode: f.mode.value, enabled: f.enabled.checked,
      comment: text(f.comment), notificationMode: f.notificationMode.value, mailto: text(f.mailto),
      mailnotification: f.mailnotification.value, keepAll: f.keepAll.checked,
      keep: Object.fromEntries(KEEP.map((key) => [key, text(f.keep[key])])),
      notes: f.notes.value ?? '', bwlimit: text(f.bwlimit), zstd: text(f.zstd),
      maxWorkers: text(f.maxWorkers), pbsEntriesMax: this.pbsEntriesMax ?? '',
      fleecing: f.fleecing.checked, fleecingStorage: f.fleecingStorage.value,
      repeatMissed: f.repeatMissed.checked,
    };
  }

  async submit() {
    const params = jobParams(this.values(), this.isCreate);
    if (this.isCreate) return api.post('/cluster/backup', params);
    return api.put(`/cluster/backup/${seg(this.jobId)}`, params);
  }

  /** Fill the lists (nodes, storages, pools) and the job's values, then wait for the close. */
  async show() {
    const shown = this.dialog.show();
    const f = this.fields;
    const node = seg(this.ctx.node);
    try {
      const [backupStores, imageStores, pools, job] = await Promise.all([
        api.get(`/nodes/${node}/storage`, {content: 'backup'}),
        api.get(`/nodes/${node}/storage`, {content: 'images'}),
        api.get('/pools'),
        this.isCreate ? null : api.get(`/cluster/backup/${seg(this.jobId)}`),
      ]);
      const nodes = resources.rows.filter((r) => r.type === 'node').map((r) => r.node);
      f.node.append(...nodes.map((name) => h('wa-option', {value: name}, name)));
      f.storage.replaceChildren(...backupStores.map((s) => h('wa-option', {value: s.storage}, s.storage)));
      f.fleecingStorage.replaceChildren(...imageStores.map((s) => h('wa-option', {value: s.storage}, s.storage)));
      f.pool.replaceChildren(...(pools ?? []).map((p) => h('wa-option', {value: p.poolid}, p.poolid)));
      const values = jobValues(job);
      if (this.isCreate) {
        values.storage = backupStores.some((s) => s.storage === 'local') ? 'local' : backupStores[0]?.storage ?? '';
      }
      this.setValues(values);
    } catch (err) {
      this.dialog.error.show(err);
      this.dialog.submitButton.disabled = true; // saving the defaults over a job unread
    }
    return shown;
  }
}

/** Open the editor: a new job without `jobId`. Resolves once closed (true when saved). */
export async function openBackupJobEditor(ctx, jobId) {
  const result = await new BackupJobEditor(ctx, jobId).show();
  return result !== undefined;
}
