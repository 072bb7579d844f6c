// "Backup now" (Proxmox's window/Backup.js): storage, mode, protected, compression,
// notification, notes template, retention; prefilled from GET /nodes/{node}/vzdump/defaults
// for the chosen storage; POST /nodes/{node}/vzdump, then the task viewer.

import {api, seg} from '../api.js';
import {FormDialog} from '../dialogs.js';
import {openTaskViewer} from '../tasks.js';
import {escapeNotesTemplate, fieldText, guestLabel, h, parsePropertyString, unescapeNotesTemplate} from '../util.js';

const KEEP = ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'];
const TEMPLATE_VARS = ['cluster', 'guestname', 'node', 'vmid'];

function select(name, label, options, value) {
  return h('wa-select', {name, label, value},
    options.map(([v, text]) => h('wa-option', {value: v}, text)));
}

/** Open the dialog for one VM; resolves once it is closed. */
export async function openBackupNow(ctx, {vmid, name, storage}) {
  const node = seg(ctx.node);
  const storageSel = h('wa-select', {name: 'storage', label: 'Storage', required: true});
  const mode = select('mode', 'Mode', [['snapshot', 'Snapshot'], ['suspend', 'Suspend'], ['stop', 'Stop']], 'snapshot');
  const protectedBox = h('wa-checkbox', {name: 'protected'}, 'Protected');
  const compress = select('compress', 'Compression',
    [['0', 'None'], ['lzo', 'LZO (fast)'], ['gzip', 'GZIP (good)'], ['zstd', 'ZSTD (fast and good)']], 'zstd');
  const notification = select('notification-mode', 'Notification',
    [['notification-system', 'Use global settings'], ['legacy-sendmail', 'Use sendmail (legacy)']],
    'notification-system');
  const mailto = h('wa-input', {name: 'mailto', label: 'Send email to', placeholder: 'none', hidden: true});
  const mailWhen = select('mailnotification', 'Email', [['always', 'Always'], ['failure', 'On failure only']], 'always');
  mailWhen.hidden = true;
  const remove = h('wa-checkbox', {name: 'remove', hidden: true,
    hint: 'Prune older backups afterwards'}, 'Prune');
  const keepFields = KEEP.map((key) => h('div', {class: 'keep', dataset: {key}},
    h('span', {class: 'keep-name'}, key), ' ', h('span', {class: 'keep-value'})));
  const retention = h('div', {class: 'retention', hidden: true},
    h('p', {}, 'Storage Retention Configuration:'), h('div', {class: 'keep-grid'}, keepFields));
  const notes = h('wa-textarea', {name: 'notes-template', label: 'Notes', rows: '3',
    value: '{{guestname}}', hint: `Possible template variables are: ${TEMPLATE_VARS.map((v) => `{{${v}}}`).join(', ')}. `
      + 'They are replaced by the cluster name, the guest\'s name, the node and the VM ID.'});

  const showLegacy = () => {
    const legacy = notification.value === 'legacy-sendmail';
    mailto.hidden = !legacy;
    mailWhen.hidden = !legacy;
  };
  notification.addEventListener('change', showLegacy);
  remove.addEventListener('change', () => {
    retention.hidden = !remove.checked;
  });

  const dialog = new FormDialog({
    label: `Backup VM ${guestLabel(vmid, name)}`,
    width: '40rem',
    className: 'backup-now',
    submitLabel: 'Backup',
    content: [
      h('div', {class: 'columns'},
        h('div', {class: 'column'}, storageSel, mode, protectedBox),
        h('div', {class: 'column'}, compress, notification, mailto, mailWhen, remove)),
      notes, retention,
    ],
    onSubmit: async () => {
      const params = {
        storage: storageSel.value,
        vmid,
        mode: mode.value,
        remove: remove.checked && !remove.hidden ? 1 : 0,
        compress: compress.value,
        'notification-mode': notification.value,
      };
      if (protectedBox.checked) params.protected = 1;
      if (notification.value === 'legacy-sendmail') {
        if (fieldText(mailto)) params.mailto = fieldText(mailto);
        params.mailnotification = mailWhen.value;
      }
      if (notes.value) params['notes-template'] = escapeNotesTemplate(notes.value);
      return api.post(`/nodes/${node}/vzdump`, params);
    },
  });

  let first = true;
  const applyDefaults = async (chosen) => {
    let data;
    try {
      data = await api.get(`/nodes/${node}/vzdump/defaults`, {storage: chosen});
    } catch (err) {
      dialog.error.show(err);
      return;
    }
    if (first) {
      first = false;
      let notify = data['notification-mode'] ?? 'auto';
      if (notify === 'auto') notify = data.mailto !== undefined ? 'legacy-sendmail' : 'notification-system';
      notification.value = notify;
      if (data.mailto !== undefined) mailto.value = data.mailto;
      if (data.mailnotification) mailWhen.value = data.mailnotification;
      if (data.mode) mode.value = data.mode;
      if (data['notes-template']) notes.value = unescapeNotesTemplate(data['notes-template']);
      showLegacy();
    }
    const keep = parsePropertyString(data['prune-backups'] ?? 'keep-all=1');
    const prunes = !keep['keep-all'] || keep['keep-all'] === '0';
    remove.hidden = !prunes;
    if (!prunes) remove.checked = false;
    retention.hidden = !prunes || !remove.checked;
    for (const field of keepFields) {
      field.querySelector('.keep-value').textContent = keep[field.dataset.key] ?? '-';
    }
  };
  storageSel.addEventListener('change', () => {
    if (storageSel.value) applyDefaults(storageSel.value);
  });

  const shown = dialog.show();
  try {
    const storages = await api.get(`/nodes/${node}/storage`, {content: 'backup'});
    storageSel.replaceChildren(...storages.map((s) => h('wa-option', {value: s.storage}, s.storage)));
    storageSel.value = storage ?? storages[0]?.storage ?? '';
    await applyDefaults(storageSel.value);
  } catch (err) {
    dialog.error.show(err);
  }
  const upid = await shown;
  if (typeof upid === 'string' && upid.startsWith('UPID:')) openTaskViewer(ctx.node, upid);
}
