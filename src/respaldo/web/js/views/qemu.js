// A VM: the power buttons (Start, Shutdown, Stop, Suspend, Resume), its Summary and its Backup
// tab (qemu-server's status and config; the backups of this VM on a storage).

import {api, seg, session} from '../api.js';
import {on} from '../bus.js';
import {BackupList} from '../backups/list.js';
import {confirmDialog, errorBox} from '../dialogs.js';
import {watchTask} from '../tasks.js';
import {formatDuration, formatSize, guestLabel, h} from '../util.js';
import {kvTable, loadingSection, usageBar} from './common.js';
import {registerView} from './registry.js';

const DISK_KEY = /^(ide|sata|scsi|virtio|efidisk|tpmstate)\d+$/;

const POWER = [
  {action: 'start', label: 'Start', variant: 'success',
    enabled: (r) => r.status === 'stopped'},
  {action: 'shutdown', label: 'Shutdown', confirm: 'Shutdown',
    enabled: (r) => r.status === 'running'},
  {action: 'stop', label: 'Stop', confirm: 'Stop', variant: 'danger',
    enabled: (r) => r.status === 'running'},
  {action: 'suspend', label: 'Suspend', confirm: 'Suspend',
    enabled: (r) => r.status === 'running' && r.qmpstatus !== 'paused'},
  {action: 'resume', label: 'Resume',
    enabled: (r) => r.status === 'running' && r.qmpstatus === 'paused'},
];

function vmPath(ctx) {
  return `/nodes/${seg(ctx.node)}/qemu/${ctx.resource.vmid}`;
}

function toolbar(ctx) {
  const error = errorBox();
  const buttons = POWER.map((p) => h('wa-button', {
    size: 's', appearance: 'outlined', variant: p.variant ?? 'neutral', class: `power-${p.action}`,
    onclick: () => power(p),
  }, p.label));
  let resource = ctx.resource;
  let busy = false;
  const refresh = (res) => {
    if (res) resource = res;
    const may = session.can('vms', 'VM.PowerMgmt');
    POWER.forEach((p, i) => {
      buttons[i].disabled = busy || !may || !p.enabled(resource);
    });
  };
  const power = async (p) => {
    const name = `VM ${guestLabel(resource.vmid, resource.name)}`;
    if (p.confirm && !(await confirmDialog(`${p.confirm} ${name}?`))) return;
    error.clear();
    busy = true;
    refresh();
    try {
      const upid = await api.post(`${vmPath(ctx)}/status/${p.action}`);
      const status = await watchTask(ctx.node, upid);
      if (status.exitstatus !== 'OK') error.show(new Error(`${p.label}: ${status.exitstatus}`));
    } catch (err) {
      error.show(err);
    } finally {
      busy = false;
      refresh();
    }
  };
  refresh();
  const element = h('div', {class: 'view-toolbar'},
    h('div', {class: 'toolbar', role: 'group', 'aria-label': 'VM power'}, buttons),
    error.element);
  return {element, refresh};
}

function disksOf(config) {
  return Object.keys(config)
    .filter((key) => DISK_KEY.test(key) && !String(config[key]).includes('media=cdrom'))
    .sort()
    .map((key) => h('div', {class: 'disk'}, `${key}: ${config[key]}`));
}

function summary(panel, ctx) {
  const section = loadingSection('Status');
  panel.append(section.element);
  let config = null;
  const load = async (withConfig) => {
    try {
      const [status, conf] = await Promise.all([
        api.get(`${vmPath(ctx)}/status/current`),
        withConfig || !config ? api.get(`${vmPath(ctx)}/config`) : Promise.resolve(config),
      ]);
      config = conf;
      section.error.clear();
      const state = status.status === 'running' && status.qmpstatus !== 'running'
        ? `${status.status} (${status.qmpstatus})` : status.status;
      section.body.replaceChildren(kvTable('VM status', [
        ['Status', h('span', {class: `vm-status ${status.status}`}, state)],
        ['Name', status.name ?? ''],
        ['CPU usage', `${((status.cpu ?? 0) * 100).toFixed(1)}% of ${status.cpus} CPU(s)`],
        ['Memory usage', status.status === 'running'
          ? usageBar('Memory', status.mem, status.maxmem) : formatSize(status.maxmem)],
        ['Disks', h('div', {class: 'disks'}, disksOf(config))],
        ['Bootdisk size', formatSize(status.maxdisk)],
        ['Uptime', status.status === 'running' ? formatDuration(status.uptime) : '-'],
        ...(status.lock ? [['Lock', status.lock]] : []),
      ]));
    } catch (err) {
      section.error.show(err);
    }
  };
  load(true);
  const timer = setInterval(() => {
    if (!document.hidden) load(false);
  }, 3000);
  const off = on('task-done', () => load(true));
  return {destroy: () => {
    clearInterval(timer);
    off();
  }};
}

function backup(panel, ctx) {
  const list = new BackupList(ctx, {vmid: ctx.resource.vmid});
  panel.append(list.element);
  return list;
}

registerView('qemu', {
  title: (ctx) => `Virtual Machine ${guestLabel(ctx.resource.vmid, ctx.resource.name)} on node '${ctx.resource.node}'`,
  toolbar,
  tabs: [
    {id: 'summary', label: 'Summary', render: summary},
    {id: 'backup', label: 'Backup', render: backup},
  ],
});
