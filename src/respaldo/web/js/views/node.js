// A node: its status (GET /nodes/{node}/status).

import {api, seg} from '../api.js';
import {formatDuration} from '../util.js';
import {kvTable, loadingSection, usageBar} from './common.js';
import {registerView} from './registry.js';

function summary(panel, ctx) {
  const section = loadingSection('Status');
  panel.append(section.element);
  const load = async () => {
    try {
      const s = await api.get(`/nodes/${seg(ctx.resource.node)}/status`);
      section.error.clear();
      section.body.replaceChildren(kvTable('Node status', [
        ['CPU usage', `${(s.cpu * 100).toFixed(1)}% of ${s.cpuinfo.cpus} CPU(s)`],
        ['Load average', s.loadavg.join(', ')],
        ['RAM usage', usageBar('RAM', s.memory.used, s.memory.total)],
        ['Root disk usage', usageBar('Root disk', s.rootfs.used, s.rootfs.total)],
        ['Uptime', formatDuration(s.uptime)],
        ['Kernel version', s.kversion],
        ['Manager version', s.pveversion],
      ]));
    } catch (err) {
      section.error.show(err);
    }
  };
  load();
  const timer = setInterval(load, 5000);
  return {destroy: () => clearInterval(timer)};
}

registerView('node', {
  title: (ctx) => `Node '${ctx.resource.node}'`,
  tabs: [{id: 'summary', label: 'Summary', render: summary}],
});
