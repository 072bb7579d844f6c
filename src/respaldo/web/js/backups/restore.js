// "Restore" (Proxmox's window/Restore.js). From a VM's Backup tab it overwrites that VM (after
// a confirmation that its disks are replaced); from a storage's Backups tab it creates a new
// VM (the next free VMID suggested). Target storage ("From backup configuration" or one
// storage with images), bandwidth limit, unique, start after restore, and overrides of name,
// cores, memory and sockets with the archived values (GET .../vzdump/extractconfig) as
// placeholders. POST /nodes/{node}/qemu with archive, then the task viewer.

import {api, seg} from '../api.js';
import {FormDialog, confirmDialog} from '../dialogs.js';
import {openTaskViewer} from '../tasks.js';
import {fieldText, guestLabel, h, volumeName} from '../util.js';

const FROM_CONFIG = '__config__';
const OVERRIDES = ['name', 'cores', 'memory', 'sockets'];

/** The archived config's values a restore shows as placeholders (name, memory, cores...). */
export function archivedValues(text) {
  const values = {};
  for (const line of String(text).split('\n')) {
    const match = /^([a-z][a-z0-9_-]*):\s*(\S.*?)\s*$/.exec(line);
    if (match && OVERRIDES.includes(match[1])) values[match[1]] = match[2];
  }
  return values;
}

/**
 * @param {{volid: string, vmid?: number, name?: string}} what  with vmid: over that VM
 */
export async function openRestore(ctx, {volid, vmid, name}) {
  const node = seg(ctx.node);
  const over = vmid !== undefined && vmid !== null;
  const target = h('wa-select', {name: 'storage', label: 'Storage', value: FROM_CONFIG},
    h('wa-option', {value: FROM_CONFIG}, 'From backup configuration'));
  const vmidField = h('wa-input', {name: 'vmid', label: 'VM', type: 'number', min: '100',
    max: '999999999', required: true, readonly: over, value: over ? String(vmid) : ''});
  const bwlimit = h('wa-input', {name: 'bwlimit', label: 'Bandwidth Limit (KiB/s)', type: 'number',
    min: '0', placeholder: 'Defaults to target storage restore limit', hint: '0 disables the limit'});
  const unique = h('wa-checkbox', {name: 'unique'}, 'Unique');
  const start = h('wa-checkbox', {name: 'start'}, 'Start after restore');
  const fields = {
    name: h('wa-input', {name: 'name', label: 'Name'}),
    cores: h('wa-input', {name: 'cores', label: 'Cores', type: 'number', min: '1', max: '1024'}),
    memory: h('wa-input', {name: 'memory', label: 'Memory (MiB)', type: 'number', min: '16'}),
    sockets: h('wa-input', {name: 'sockets', label: 'Sockets', type: 'number', min: '1', max: '4'}),
  };

  const dialog = new FormDialog({
    label: over ? `Restore VM ${guestLabel(vmid, name)}` : 'Restore: VM',
    width: '34rem',
    className: over ? 'restore restore-over' : 'restore restore-new',
    submitLabel: 'Restore',
    content: [
      h('dl', {class: 'source'}, h('dt', {}, 'Source'), h('dd', {class: 'source-volid'}, volumeName(volid))),
      target, vmidField, bwlimit,
      h('div', {class: 'checks'}, unique, start),
      h('fieldset', {class: 'overrides'}, h('legend', {}, 'Override Settings'),
        h('div', {class: 'columns'}, fields.name, fields.cores, fields.memory, fields.sockets)),
    ],
    onSubmit: async () => {
      const params = {vmid: fieldText(vmidField), archive: volid};
      if (over) params.force = 1;
      if (target.value && target.value !== FROM_CONFIG) params.storage = target.value;
      if (fieldText(bwlimit) !== '') params.bwlimit = fieldText(bwlimit);
      if (unique.checked) params.unique = 1;
      if (start.checked) params.start = 1;
      for (const key of OVERRIDES) {
        if (fieldText(fields[key]) !== '') params[key] = fieldText(fields[key]);
      }
      if (over) {
        const yes = await confirmDialog(
          `VM ${vmid} - Restore. This will permanently erase current VM data: its disks are `
          + 'replaced by those of the backup.');
        if (!yes) return false;
      }
      return api.post(`/nodes/${node}/qemu`, params);
    },
  });
  const shown = dialog.show();
  try {
    const [storages, config, nextid] = await Promise.all([
      api.get(`/nodes/${node}/storage`, {content: 'images'}),
      api.get(`/nodes/${node}/vzdump/extractconfig`, {volume: volid}),
      over ? Promise.resolve(null) : api.get('/cluster/nextid'),
    ]);
    target.append(...storages.map((s) => h('wa-option', {value: s.storage}, s.storage)));
    const archived = archivedValues(config);
    for (const key of OVERRIDES) {
      if (archived[key] !== undefined) fields[key].placeholder = archived[key];
    }
    if (!over && !fieldText(vmidField)) vmidField.value = String(nextid);
  } catch (err) {
    dialog.error.show(err);
  }
  const upid = await shown;
  if (upid) openTaskViewer(ctx.node, upid);
}
