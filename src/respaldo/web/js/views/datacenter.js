// Datacenter (the tree's root): a summary of the node(s), guests and storages. Its Backup and
// Notifications tabs are added by jobs/view.js and notifications/view.js (addTab('root', ...)).

import {resources} from '../resources.js';
import {kvTable, loadingSection} from './common.js';
import {registerView} from './registry.js';

function summary(panel) {
  const section = loadingSection('Summary');
  panel.append(section.element);
  const refresh = () => {
    const vms = resources.vms();
    const storages = resources.storages();
    section.body.replaceChildren(kvTable('Datacenter', [
      ['Nodes', resources.rows.filter((r) => r.type === 'node').map((r) => r.node).join(', ')],
      ['Virtual machines', `${vms.length} (${vms.filter((v) => v.status === 'running').length} running)`],
      ['Storages', storages.map((s) => s.storage).join(', ')],
    ]));
  };
  refresh();
  return {refresh};
}

registerView('root', {
  title: () => 'Datacenter',
  tabs: [{id: 'summary', label: 'Summary', render: summary}],
});
