// A storage: its Summary (type, path, content, usage) and its Backups (every guest's backups,
// with Prune group).

import {api, seg} from '../api.js';
import {BackupList} from '../backups/list.js';
import {on} from '../bus.js';
import {kvTable, loadingSection, usageBar} from './common.js';
import {registerView} from './registry.js';

function summary(panel, ctx) {
  const section = loadingSection('Summary');
  panel.append(section.element);
  const storage = ctx.resource.storage;
  const load = async () => {
    try {
      const [status, configs] = await Promise.all([
        api.get(`/nodes/${seg(ctx.node)}/storage/${seg(storage)}/status`),
        api.get('/storage'),
      ]);
      const config = configs.find((c) => c.storage === storage) ?? {};
      section.error.clear();
      section.body.replaceChildren(kvTable('Storage status', [
        ['Type', status.type],
        ['Path', config.path ?? ''],
        ['Content', status.content],
        ['Enabled', status.enabled ? 'Yes' : 'No'],
        ['Active', status.active ? 'Yes' : 'No'],
        ['Shared', status.shared ? 'Yes' : 'No'],
        ['Usage', usageBar('Storage', status.used, status.total)],
      ]));
    } catch (err) {
      section.error.show(err);
    }
  };
  load();
  const off = on('task-done', load);
  return {destroy: off};
}

function backups(panel, ctx) {
  const list = new BackupList(ctx, {storage: ctx.resource.storage});
  panel.append(list.element);
  return list;
}

registerView('storage', {
  title: (ctx) => `Storage '${ctx.resource.storage}' on node '${ctx.resource.node}'`,
  tabs: [
    {id: 'summary', label: 'Summary', render: summary},
    {id: 'backups', label: 'Backups', render: backups},
  ],
});
