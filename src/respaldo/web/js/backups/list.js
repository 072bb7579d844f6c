// The list of backups, as the VM's Backup tab (one VM's backups on a chosen storage, with
// Backup now) and the storage's Backups tab (every guest's, with a VMID filter and Prune group)
// show it: GET /nodes/{node}/storage/{storage}/content?content=backup, newest first, search
// in name, format and notes; Restore, Show Configuration, Edit Notes, Change Protection, Remove.

import {api, seg, session} from '../api.js';
import {on} from '../bus.js';
import {confirmDialog, errorBox, loadPanel} from '../dialogs.js';
import {DataGrid} from '../grid.js';
import {watchTask} from '../tasks.js';
import {esc, fieldText, formatSize, formatTime, h, volumeName} from '../util.js';
import {openBackupNow} from './backupnow.js';
import {showBackupConfig} from './config.js';
import {editNotes} from './notes.js';
import {openPrune} from './prune.js';
import {openRestore} from './restore.js';

const RELOAD_ON = new Set(['vzdump', 'qmrestore', 'imgdel', 'prunebackups']);
let lastStorage = null; // the VM tabs' storage selector remembers the last choice

function guestType(row) {
  if (row.subtype) return row.subtype;
  return /^vzdump-lxc-/.test(volumeName(row.volid)) ? 'lxc' : 'qemu';
}

function columns(withVmid) {
  const cols = [
    {id: 'name', header: 'Name', value: (r) => volumeName(r.volid),
      html: (r) => `<span title="${esc(r.volid)}">${esc(volumeName(r.volid))}</span>`},
    {id: 'notes', header: 'Notes', width: '18%', value: (r) => r.notes ?? ''},
    {id: 'protected', header: 'Protected', width: '6rem', value: (r) => (r.protected ? 1 : 0),
      html: (r) => (r.protected
        ? '<span class="icon shield" aria-hidden="true"></span><span class="sr-only">Yes</span>'
        : '')},
    {id: 'ctime', header: 'Date', width: '11rem', value: (r) => r.ctime ?? 0,
      html: (r) => esc(formatTime(r.ctime))},
    {id: 'format', header: 'Format', width: '5.5rem', value: (r) => r.format},
    {id: 'size', header: 'Size', width: '6rem', align: 'end', value: (r) => r.size ?? 0,
      html: (r) => esc(formatSize(r.size))},
  ];
  if (withVmid) cols.splice(1, 0, {id: 'vmid', header: 'VMID', width: '5rem', value: (r) => r.vmid ?? ''});
  return cols;
}

export class BackupList {
  /** @param {{vmid?: number, storage?: string}} scope: one VM's backups, or one storage's */
  constructor(ctx, scope) {
    this.ctx = ctx;
    this.vmid = scope.vmid ?? null;
    this.storage = scope.storage ?? null;
    this.vmMode = this.vmid !== null;
    this.search = '';
    this.vmidFilter = '';
    this.error = errorBox();
    this.grid = new DataGrid({
      label: this.vmMode ? `Backups of VM ${this.vmid}` : `Backups on storage ${this.storage}`,
      columns: columns(!this.vmMode),
      rowId: (row) => row.volid,
      sort: {column: 'ctime', descending: true},
      emptyText: 'No backups',
      onSelect: () => this.updateButtons(),
      onActivate: (row) => showBackupConfig(this.ctx, row.volid),
    });
    this.buttons = this.makeButtons();
    this.element = h('div', {class: 'backup-list', dataset: {state: 'loading'}},
      h('div', {class: 'list-toolbar'},
        h('div', {class: 'toolbar', role: 'group', 'aria-label': 'Backup actions'},
          Object.values(this.buttons)),
        h('span', {class: 'spacer'}),
        this.makeFilters()),
      this.error.element,
      this.grid.element);
    this.off = on('task-done', (task) => {
      if (RELOAD_ON.has(task.type)) this.load();
    });
    this.updateButtons();
    this.start();
  }

  makeButtons() {
    const button = (cls, label, onclick, attrs = {}) => h('wa-button', {
      size: 's', appearance: 'outlined', class: cls, onclick, ...attrs,
    }, label);
    const buttons = {};
    if (this.vmMode) {
      buttons.backup = button('backup-now', 'Backup now', () => this.backupNow(), {variant: 'brand'});
    }
    buttons.restore = button('restore', 'Restore', () => this.restore());
    buttons.config = button('show-config', 'Show Configuration',
      () => showBackupConfig(this.ctx, this.grid.selected.volid));
    buttons.notes = button('edit-notes', 'Edit Notes', () => this.editNotes());
    buttons.protect = button('change-protection', 'Change Protection', () => this.toggleProtection());
    buttons.remove = button('remove', 'Remove', () => this.remove(), {variant: 'danger'});
    if (!this.vmMode) buttons.prune = button('prune-group', 'Prune group', () => this.prune());
    return buttons;
  }

  makeFilters() {
    const filters = h('div', {class: 'filters'});
    if (this.vmMode) {
      this.storageSelect = h('wa-select', {size: 's', label: 'Storage', class: 'storage-select',
        onchange: () => {
          if (!this.storageSelect.value || this.storageSelect.value === this.storage) return;
          this.storage = this.storageSelect.value;
          lastStorage = this.storage;
          this.grid.setRows([]);
          this.load();
        }});
      filters.append(this.storageSelect);
    } else {
      this.vmidInput = h('wa-input', {size: 's', label: 'Filter VMID', type: 'number', min: '100',
        class: 'vmid-filter', oninput: () => {
          this.vmidFilter = fieldText(this.vmidInput);
          this.applyFilter();
        }});
      filters.append(this.vmidInput);
    }
    this.searchInput = h('wa-input', {size: 's', label: 'Search', type: 'search',
      placeholder: 'Name, Format, Notes', class: 'search', oninput: () => {
        this.search = fieldText(this.searchInput).toLowerCase();
        this.applyFilter();
      }});
    filters.append(this.searchInput);
    return filters;
  }

  async start() {
    if (this.vmMode) {
      try {
        const storages = await api.get(`/nodes/${seg(this.ctx.node)}/storage`, {content: 'backup'});
        const names = storages.map((s) => s.storage).sort();
        this.storageSelect.replaceChildren(...names.map((name) => h('wa-option', {value: name}, name)));
        this.storage = [lastStorage, 'local', names[0]].find((name) => names.includes(name)) ?? null;
        if (this.storage) this.storageSelect.value = this.storage;
      } catch (err) {
        this.error.show(err);
        return;
      }
    }
    await this.load();
  }

  applyFilter() {
    const text = this.search;
    const vmid = this.vmidFilter;
    this.grid.setFilter(!text && !vmid ? null : (row) => {
      if (vmid && String(row.vmid ?? '') !== vmid) return false;
      if (!text) return true;
      return volumeName(row.volid).toLowerCase().includes(text)
        || String(row.format ?? '').toLowerCase().includes(text)
        || String(row.notes ?? '').toLowerCase().includes(text);
    });
  }

  /** Load the storage's backups (this VM's only in a VM's tab). */
  async load() {
    if (!this.storage) {
      this.updateButtons();
      return;
    }
    const params = {content: 'backup'};
    if (this.vmMode) params.vmid = this.vmid;
    await loadPanel(this.element, this.error, async () => {
      const rows = await api.get(
        `/nodes/${seg(this.ctx.node)}/storage/${seg(this.storage)}/content`, params);
      this.grid.setRows(this.vmMode ? rows.filter((r) => guestType(r) === 'qemu') : rows);
    });
    this.updateButtons();
  }

  updateButtons() {
    const row = this.grid.selected;
    const b = this.buttons;
    // what the login's capabilities rule out (Proxmox's GUI does the same); the API still
    // checks each call on its own path
    const space = session.can('storage', 'Datastore.AllocateSpace');
    const may = {
      backup: session.can('vms', 'VM.Backup') && space,
      restore: session.can('vms', 'VM.Allocate') || session.can('vms', 'VM.Backup'),
      config: true,
      notes: space,
      protect: space,
      remove: space,
      prune: space || session.can('storage', 'Datastore.Allocate'),
    };
    if (b.backup) b.backup.disabled = !this.storage || !may.backup;
    for (const key of ['restore', 'config', 'notes', 'protect']) b[key].disabled = !row || !may[key];
    b.remove.disabled = !row || Boolean(row.protected) || !may.remove;
    if (b.prune) {
      b.prune.disabled = !row || row.vmid === undefined || !may.prune;
      b.prune.textContent = row && row.vmid !== undefined
        ? `Prune group ${guestType(row)}/${row.vmid}` : 'Prune group';
    }
  }

  backupNow() {
    const vm = this.ctx.resource;
    openBackupNow(this.ctx, {vmid: this.vmid, name: vm?.name, storage: this.storage});
  }

  restore() {
    const row = this.grid.selected;
    if (this.vmMode) {
      openRestore(this.ctx, {volid: row.volid, vmid: this.vmid, name: this.ctx.resource?.name});
    } else {
      openRestore(this.ctx, {volid: row.volid});
    }
  }

  volumePath(volid) {
    return `/nodes/${seg(this.ctx.node)}/storage/${seg(this.storage)}/content/${seg(volid)}`;
  }

  async editNotes() {
    const row = this.grid.selected;
    if (await editNotes(this.ctx, this.volumePath(row.volid))) await this.load();
  }

  async toggleProtection() {
    const row = this.grid.selected;
    this.error.clear();
    try {
      await api.put(this.volumePath(row.volid), {protected: row.protected ? 0 : 1});
    } catch (err) {
      this.error.show(err);
    }
    await this.load();
  }

  async remove() {
    const row = this.grid.selected;
    const ok = await confirmDialog(`Are you sure you want to remove entry '${volumeName(row.volid)}'?`,
      {label: 'Remove backup'});
    if (!ok) return;
    this.error.clear();
    try {
      const upid = await api.del(this.volumePath(row.volid), {delay: 5});
      if (upid) {
        const status = await watchTask(this.ctx.node, upid);
        if (status.exitstatus !== 'OK') this.error.show(new Error(status.exitstatus));
      }
    } catch (err) {
      this.error.show(err);
    }
    await this.load();
  }

  prune() {
    const row = this.grid.selected;
    openPrune(this.ctx, {storage: this.storage, type: guestType(row), vmid: row.vmid});
  }

  destroy() {
    this.off();
  }
}
